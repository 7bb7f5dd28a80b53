package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.BackendMemory;
import io.ollamabalancer.estimate.CostHints;
import io.ollamabalancer.estimate.CostModel;
import io.ollamabalancer.estimate.DecodeShare;
import io.ollamabalancer.estimate.EstimateErrors;
import io.ollamabalancer.estimate.EstimatorSettings;
import io.ollamabalancer.estimate.RequestEstimate;
import io.ollamabalancer.estimate.RequestEstimator;
import io.ollamabalancer.estimate.Speeds;
import io.ollamabalancer.estimate.TimingSample;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * What the scheduler and its policies know about the future: how long a request will take on a backend (load if
 * the model is cold there, prefill, decode at the concurrency it will see), when each busy slot is expected to
 * free up, which backend holds a chat prefix in its prompt cache, and how much the per-request predictions can be
 * trusted ({@link #confidence()}). It keeps the ledger of running work and does all the learning when a request
 * ends: speeds ({@link CostModel}), prompt ratio and output lengths ({@link RequestEstimator}), and the error
 * figures ({@link EstimateErrors}).
 *
 * <p>Two predictors of service time are kept and blended by {@link #confidence()} {@code w}: the specific one
 * ({@code E[min(L, cap)]} for a new request; {@code E[min(L, cap) − g | L > g]} for one that has produced about
 * {@code g} tokens) and the generic one ({@code min(E[L], cap)}, the same whatever has elapsed: memoryless), which
 * turns the {@code eft} policy into speed-aware shortest-expected-delay as {@code w → 0}. The cap enters both: it
 * is a fact, not a prediction.
 *
 * <p>Thread-safe; no locks on the decision path (concurrent maps and immutable learned values).
 */
public final class Predictor {
    /** Per-request time outside load, prefill and decode: templating, HTTP, the final chunk. */
    static final long OVERHEAD_NANOS = 20_000_000L;

    private final CostModel cost;
    private final RequestEstimator estimator;
    private final EstimateErrors errors;
    private final LongSupplier nanoTime;
    private final long warmWindowNanos;
    private final Workload workload = new Workload();
    private final PredictionQuality quality = new PredictionQuality();
    private final PrefixAffinity affinity;
    private final ModelDemand demand;
    private final PlacementPlanner planner;
    /** Backend name → models a load started there will evict → until when that is expected to be done. */
    private final Map<String, Map<String, Long>> doomed = new ConcurrentHashMap<>();
    /** Each backend's streams over time, by name: what a response's decode shared ({@link StreamTime}). */
    private final Map<String, StreamTime> streamTimes = new ConcurrentHashMap<>();
    /** Per backend: when its jobs end at the earliest, for skipping full backends that cannot win a decision. */
    private final Map<String, EndFloor> endFloors = new ConcurrentHashMap<>();

    public Predictor(CostModel cost, RequestEstimator estimator, EstimateErrors errors, SchedulerSettings settings,
                     LongSupplier nanoTime) {
        this.cost = cost;
        this.estimator = estimator;
        this.errors = errors;
        this.nanoTime = nanoTime;
        this.warmWindowNanos = settings.warmWindow().toNanos();
        this.affinity = new PrefixAffinity(settings.affinityTtl().toNanos());
        // Demand is remembered as sizes and priced when read, with the speeds and answer lengths known then.
        this.demand = new ModelDemand(DEMAND_WINDOW_NANOS, (model, prompt, outputShare) ->
                referenceNanos(model, prompt, outputShare * estimator.expectedOutputTokens(model, -1)));
        this.planner = new PlacementPlanner(demand, cost, PLAN_INTERVAL_NANOS);
        planner.runs(workload::runs);
    }

    /** How far back demand is remembered when placing models. */
    static final long DEMAND_WINDOW_NANOS = 60_000_000_000L;
    /** How often the placement plan is reconsidered. */
    static final long PLAN_INTERVAL_NANOS = 2_000_000_000L;

    /** Recent demand per model. */
    public ModelDemand demand() {
        return demand;
    }

    /** The placement planner (which models should be resident where). */
    public PlacementPlanner planner() {
        return planner;
    }

    /**
     * The placement plan as last made. Reading it costs nothing; making it is the scheduler's timer's work
     * ({@link Scheduler#replan}), never a dispatching thread's (those are event loops).
     */
    public PlacementPlan placement() {
        return planner.current();
    }

    /**
     * What starting {@code model} on {@code b}, where it is not ready, costs besides the load itself: the models
     * Ollama would evict for it (idle ones first, least recently used, then busy ones, soonest done first), the wait
     * for those busy ones, and the expected delay imposed on their later requests: for each victim, its share of
     * the warm capacity lost ({@code b}'s speed over that of every backend where it is warm) times (its waiting
     * requests + its arrivals during one load) times its load time, plus one more load time when the plan wants it
     * on {@code b}. A load the plan does not want on {@code b} is charged one load time of its own.
     *
     * @param also a model this decision already plans to load on {@code b}, or null
     */
    public ColdStart coldStart(Backend b, String model, long now, double w, PlacementPlan plan, String also) {
        LinkedHashSet<String> resident = new LinkedHashSet<>(b.loadedModels());
        for (RunningJob j : workload.running(b.name())) {
            resident.add(j.modelKey());
        }
        if (also != null) {
            resident.add(also);
        }
        resident.remove(model);
        double penalty = plan.planned(b.name(), model) ? 0 : cost.speeds(b.name(), model).loadNanos();
        BackendMemory memory = b.memory();
        if (memory.fits(resident, model)) {
            return penalty == 0 ? ColdStart.FREE : new ColdStart(0, penalty, List.of());
        }
        // Ollama's order: idle models (least recently used first), then busy ones; ours: busy ones soonest done.
        List<String> idle = new ArrayList<>();
        List<String> busy = new ArrayList<>();
        for (String m : resident) {
            if (m.equals(also)) {
                continue;
            }
            (workload.runs(b.name(), m) ? busy : idle).add(m);
        }
        idle.sort(Comparator.comparingLong(m -> lastUsed(b, m)));
        List<String> order = new ArrayList<>(idle);
        order.addAll(busy);
        List<String> victims = new ArrayList<>();
        long wait = 0;
        for (String v : order) {
            if (memory.fits(resident, model)) {
                break;
            }
            resident.remove(v);
            victims.add(v);
            for (RunningJob j : workload.running(b.name())) {
                if (j.modelKey().equals(v)) {
                    wait = Math.max(wait, remainingNanos(j, now, w));
                }
            }
            penalty += evictionPenalty(b, v, now, plan);
        }
        return new ColdStart(wait, penalty, List.copyOf(victims));
    }

    private long lastUsed(Backend b, String model) {
        Workload.Instance inst = workload.instance(b.name(), model);
        return inst == null ? Long.MIN_VALUE : inst.lastUsedNanos();
    }

    /** The expected delay that evicting {@code v} from {@code b} imposes on {@code v}'s later requests. */
    private double evictionPenalty(Backend b, String v, long now, PlacementPlan plan) {
        double here = warmCapacity(b, v);
        double all = here;
        for (Backend o : planner.backendsNow()) {
            if (o != b && o.isAvailable() && (o.isLoaded(v) || workload.runs(o.name(), v))) {
                all += warmCapacity(o, v);
            }
        }
        double share = all <= 0 ? 1 : here / all;
        long load = cost.speeds(b.name(), v).loadNanos();
        if (plan.restricted() && !plan.planned(b.name(), v)) {
            // The plan moves it elsewhere: only what waits for it now is hurt, and less where it has a home.
            return share * demand.queued(v) * load * (plan.replicas(v) > 0 ? 0.5 : 1);
        }
        double affected = demand.queued(v) + demand.rate(v, now) * load / 1e9;
        // A model the plan keeps here comes back: one more load, its reload.
        return share * affected * load + (plan.restricted() ? load : 0);
    }

    private double warmCapacity(Backend b, String model) {
        Speeds s = cost.speeds(b.name(), model);
        return s.decodeTps() * s.parallelGain(b.maxConcurrency());
    }

    /** A predictor with default hints and length-based prompt estimates (no tokenizer). */
    public static Predictor standalone(SchedulerSettings settings, LongSupplier nanoTime) {
        return new Predictor(new CostModel(CostHints.defaults(), nanoTime),
                new RequestEstimator(null, EstimatorSettings.defaults()), new EstimateErrors(), settings, nanoTime);
    }

    public CostModel costModel() {
        return cost;
    }

    public RequestEstimator estimator() {
        return estimator;
    }

    public EstimateErrors errors() {
        return errors;
    }

    public long now() {
        return nanoTime.getAsLong();
    }

    /** Weight of the specific predictions against the generic ones, in [0, 1] (see {@link PredictionQuality}). */
    public double confidence() {
        return quality.weight();
    }

    /**
     * Whether {@code b} should stop taking new requests of {@code model}, which it holds: the plan has the model
     * elsewhere and not here, and wants here a model that is not resident and does not fit beside what is.
     */
    public boolean yields(Backend b, String model, PlacementPlan plan) {
        if (!plan.restricted() || plan.planned(b.name(), model) || plan.replicas(model) == 0 && !plan.waits(model)) {
            return false;
        }
        Set<String> wanted = plan.holds().get(b.name());
        if (wanted == null || wanted.isEmpty()) {
            return false;
        }
        LinkedHashSet<String> resident = null;
        for (String p : wanted) {
            if (b.isLoaded(p) || !b.hasModel(p)) {
                continue;
            }
            if (resident == null) {
                resident = new LinkedHashSet<>(b.loadedModels());
                for (RunningJob j : workload.running(b.name())) {
                    resident.add(j.modelKey());
                }
            }
            if (!b.memory().fits(resident, p)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether {@code r}'s model instance is ready on {@code b}: loaded (per {@code /api/ps}, or used there within
     * the warm window) with the same runner options as the request.
     */
    public boolean isWarm(Backend b, PendingRequest r, long now) {
        String model = r.modelKey();
        Workload.Instance inst = workload.instance(b.name(), model);
        String last = inst == null ? "" : inst.runnerOptions();
        if (!last.equals(runnerOptions(r))) {
            return false;
        }
        if (doomed(b, model, now)) {
            return false;
        }
        if (b.isLoaded(model)) {
            return true;
        }
        if (inst == null) {
            return false;
        }
        if (workload.runs(b.name(), model)) {
            return true;
        }
        // Recent use stands in for a stale /api/ps only where memory cannot have evicted it meanwhile.
        return now - inst.lastUsedNanos() <= warmWindowNanos && !b.memory().limited();
    }

    /** Time from now until jobs of {@code r}'s model with other runner options end on {@code b} (a reload waits). */
    public long reloadBarrierNanos(Backend b, PendingRequest r, long now) {
        long barrier = 0;
        String opts = runnerOptions(r);
        double w = confidence();
        for (RunningJob j : workload.running(b.name())) {
            if (j.modelKey().equals(r.modelKey()) && !j.runnerOptions().equals(opts)) {
                barrier = Math.max(barrier, remainingNanos(j, now, w));
            }
        }
        return barrier;
    }

    /** Predicted time from start to end of {@code r} on {@code b} with {@code streams} streams there. */
    public long serviceNanos(PendingRequest r, Backend b, int streams, boolean cold, double w) {
        return serviceNanosWith(r, b, streams, cold, expectedOutput(r, w));
    }

    /**
     * The output tokens {@link #serviceNanos} expects of {@code r}, blending the two predictors with weight {@code w}:
     * the same on every backend, so a decision weighing many backends for one request asks once.
     */
    double expectedOutput(PendingRequest r, double w) {
        return w * specificOutput(r) + (1 - w) * genericOutput(r);
    }

    /** As {@link #serviceNanos}, with {@code r}'s {@link #expectedOutput} at hand. */
    long serviceNanosWith(PendingRequest r, Backend b, int streams, boolean cold, double expectedOutput) {
        return serviceNanos(speeds(b, r), r, streams, cold, expectedOutput);
    }

    /** What is known of the speed of {@code r}'s model on {@code b}. */
    Speeds speeds(Backend b, PendingRequest r) {
        return cost.speeds(b.name(), r.modelKey());
    }

    /** As {@link #serviceNanos}, with {@code r}'s {@link #speeds} on the backend and {@link #expectedOutput}. */
    static long serviceNanos(Speeds s, PendingRequest r, int streams, boolean cold, double expectedOutput) {
        return s.serviceNanos(r.estimate().promptTokens(), expectedOutput, streams, cold) + OVERHEAD_NANOS;
    }

    /**
     * Sizes {@code r} as it enters the queue: returns its expected service on the fleet's typical backend, warm and
     * alone (its size for SJF order), and, for a {@code newArrival}, counts it at {@code at} in its model's demand,
     * as its prompt tokens and the share of the model's expected answer it may use (1 uncapped, the capped
     * expectation over the uncapped one under a cap, 0 for an embedding).
     */
    long size(PendingRequest r, boolean newArrival, long at) {
        int prompt = r.estimate().promptTokens();
        double output = specificOutput(r);
        if (newArrival) {
            double uncapped = r.estimate().embedding() ? 0 : estimator.expectedOutputTokens(r.modelKey(), -1);
            double share = r.estimate().embedding() ? 0 : uncapped <= 0 ? 1 : Math.min(1, output / uncapped);
            demand.arrived(r.modelKey(), prompt, share, at);
        }
        return referenceNanos(r.modelKey(), prompt, output);
    }

    /** A request of {@code model} on the fleet's typical backend, warm and alone, priced with what is known now. */
    private long referenceNanos(String model, double promptTokens, double outputTokens) {
        return cost.fleetSpeeds(model).serviceNanos((int) Math.round(promptTokens), outputTokens, 1, false)
                + OVERHEAD_NANOS;
    }

    /** Expected time until {@code j} ends, blending the two predictors with weight {@code w}. */
    public long remainingNanos(RunningJob j, long now, double w) {
        return remainingNanos(j, now, w, j.embedding() ? null : estimator.outputs(j.modelKey()));
    }

    /** As {@link #remainingNanos(RunningJob, long, double)}, with {@code j}'s model's output figures at hand. */
    private static long remainingNanos(RunningJob j, long now, double w, RequestEstimator.Outputs outputs) {
        return blend(j, w, specificNanos(j, now, outputs));
    }

    /** The two predictors' times until {@code j} ends, weighted {@code w} for the specific one. */
    private static long blend(RunningJob j, double w, double specificNanos) {
        return (long) (w * specificNanos + (1 - w) * j.genericNanos());
    }

    /** The specific predictor's time until {@code j} ends: what is left of its upfront work and expected output. */
    private static double specificNanos(RunningJob j, long now, RequestEstimator.Outputs outputs) {
        long elapsed = Math.max(0, now - j.startNanos());
        if (j.embedding()) {
            return Math.max(0, j.upfrontNanos() - elapsed);
        } else if (elapsed < j.upfrontNanos()) {
            return j.upfrontNanos() - elapsed + outputs.expected(j.outputCap()) / j.decodeTps() * 1e9;
        }
        double generated = (elapsed - j.upfrontNanos()) * j.decodeTps() / 1e9;
        return outputs.remaining(generated, j.outputCap()) / j.decodeTps() * 1e9;
    }

    /**
     * No sooner than this after {@code now} is {@code j} predicted to end, whatever the weight of the two predictors:
     * the sooner of the specific and the generic prediction ({@link EndFloor}).
     */
    static double endFloorNanos(RunningJob j, long now, RequestEstimator.Outputs outputs) {
        return Math.min(specificNanos(j, now, outputs), j.genericNanos());
    }

    /**
     * When each of {@code b}'s slots is expected to be free, in nanoseconds from now, ascending (0: free now).
     * Slots in use without a job in this ledger (another replica's, or a dispatch in flight) count as
     * {@code unknownNanos}.
     */
    public long[] slotFreeTimes(Backend b, long now, double w, long unknownNanos) {
        return slotFreeTimes(b, now, w, unknownNanos, Integer.MAX_VALUE);
    }

    /**
     * As {@link #slotFreeTimes(Backend, long, double, long)}, keeping at most {@code maxIdle} of the idle slots
     * (zeros): a plan that places k requests never looks past k idle slots, and a backend with hundreds of slots
     * must not cost an array of hundreds per decision. When all {@code maxIdle} zeros are there, the busy times
     * after them are not predicted at all but stand at {@link Long#MAX_VALUE}: a plan placing fewer than
     * {@code maxIdle} requests always starts on a zero and only counts the busy slots, so predicting each running
     * job (hundreds on a big backend, for every decision) would be work for nothing.
     */
    public long[] slotFreeTimes(Backend b, long now, double w, long unknownNanos, int maxIdle) {
        return forecast(b, now, w, unknownNanos, null, maxIdle, false).times();
    }

    /**
     * The slot-free times the {@code eft} plan works on: as {@link #slotFreeTimes(Backend, long, double, long, int)},
     * with two savings, since it runs for every candidate of every decision. The time of a slot in use without a job
     * in this ledger is {@code like}'s service on {@code b} at full concurrency, computed only when such a slot is
     * there. And when all {@code maxIdle} zeros are there, the busy slots are not listed one by one: the times end
     * with a single {@link Long#MAX_VALUE}, and {@link SlotForecast#unlisted()} says how many more such slots it
     * stands for (a backend with hundreds of slots in use must not cost an array of hundreds per decision).
     */
    SlotForecast slotForecast(Backend b, long now, double w, PendingRequest like, int maxIdle) {
        return forecast(b, now, w, -1, like, maxIdle, true);
    }

    /**
     * A finish of {@code r} on {@code b} that none of its busy slots can beat, or 0 when no such bound is known: while
     * every slot is busy, {@code r} starts no sooner than the first of their jobs ends ({@link EndFloor}: at least
     * now), and then runs beside all the others ({@code streams} = slots in use). Only where this scheduler knows the
     * job of every busy slot: a slot whose job it does not know (another replica's, a dispatch in flight) has no
     * predicted end to order by.
     * (Two jobs predicted to end at the same nanosecond would let it start beside one stream fewer; that is ignored.)
     * Lets a decision skip predicting every running job of a full backend that cannot win anyway.
     */
    long busyFinishBound(Backend b, Speeds s, PendingRequest r, double output, long now) {
        int used = b.slotsInUse();
        if (used < b.maxConcurrency() || streamTime(b.name()).streams() < used) {
            return 0;
        }
        long floor = endFloor(b.name()).current().nanos();
        long wait = floor == Long.MIN_VALUE ? 0 : Math.max(0, floor - now);
        return wait + serviceNanos(s, r, used, false, output);
    }

    private SlotForecast forecast(Backend b, long now, double w, long unknownNanos, PendingRequest like, int maxIdle,
                                  boolean compact) {
        int slots = b.maxConcurrency();
        int used = Math.max(0, Math.min(slots, b.slotsInUse()));
        int idle = Math.min(slots - used, Math.max(0, maxIdle));
        if (maxIdle > 0 && idle == maxIdle) {
            int listed = compact ? Math.min(used, 1) : used;
            long[] t = new long[idle + listed];
            Arrays.fill(t, idle, idle + listed, Long.MAX_VALUE);
            return new SlotForecast(t, used - listed, true);
        }
        long[] t = new long[idle + used];
        int n = idle;
        EndFloor floor = endFloor(b.name());
        EndFloor.Mark seen = floor.current();
        double earliest = Double.MAX_VALUE;
        boolean every = true;
        // Jobs on a backend mostly share a model: its figures are looked up once per run of equal models.
        String model = null;
        RequestEstimator.Outputs outputs = null;
        for (RunningJob j : workload.running(b.name())) {
            if (n == t.length) {
                every = false;
                break;
            }
            if (!j.embedding() && (outputs == null || !j.modelKey().equals(model))) {
                model = j.modelKey();
                outputs = estimator.outputs(model);
            }
            RequestEstimator.Outputs o = j.embedding() ? null : outputs;
            double specific = specificNanos(j, now, o);
            t[n++] = blend(j, w, specific);
            earliest = Math.min(earliest, Math.min(specific, j.genericNanos()));
        }
        if (every && n == t.length && used > 0) {
            // Every busy slot's job was just predicted: the floor for the decisions that follow.
            floor.refreshed(seen, now + (long) earliest);
        }
        if (n < t.length) {
            long unknown = like == null ? unknownNanos : serviceNanos(like, b, slots, false, 0);
            Arrays.fill(t, n, t.length, unknown);
        }
        Arrays.sort(t);
        return new SlotForecast(t, 0, false);
    }

    /** The backend that recently served this chat's prefix, or {@code null}. */
    public String affinityBackend(PendingRequest r, long now) {
        return affinity.lookup(r.modelKey(), r.request().prefixHash(), now);
    }

    /** Expected time to work off {@code queue} on {@code candidates}, for {@code Retry-After}. */
    public long drainNanos(ModelQueue queue, List<Backend> candidates) {
        Speeds typical = cost.fleetSpeeds(queue.modelKey());
        double capacity = 0;
        for (Backend b : candidates) {
            Speeds s = cost.speeds(b.name(), queue.modelKey());
            capacity += s.parallelGain(b.maxConcurrency()) * s.decodeTps() / typical.decodeTps();
        }
        return capacity <= 0 ? queue.pendingWorkNanos() : (long) (queue.pendingWorkNanos() / capacity);
    }

    /**
     * Whether a load this scheduler started on {@code b} is about to evict {@code model} there: Ollama makes a new
     * request for a model it is evicting wait for the eviction and load it again, so sending one would undo the
     * load that is under way (two models taking turns on one backend).
     */
    private boolean doomed(Backend b, String model, long now) {
        Map<String, Long> d = doomed.get(b.name());
        if (d == null) {
            return false;
        }
        Long until = d.get(model);
        if (until == null) {
            return false;
        }
        if (until <= now) {
            d.remove(model, until);
            return false;
        }
        return true;
    }

    private EndFloor endFloor(String backend) {
        EndFloor f = endFloors.get(backend);
        return f != null ? f : endFloors.computeIfAbsent(backend, k -> new EndFloor());
    }

    private StreamTime streamTime(String backend) {
        StreamTime t = streamTimes.get(backend);
        return t != null ? t : streamTimes.computeIfAbsent(backend, k -> new StreamTime());
    }

    /** Records the start of {@code r} on {@code b} (its slot already taken) and returns the prediction. */
    Prediction dispatched(PendingRequest r, Backend b) {
        long now = now();
        int streams = Math.max(1, b.slotsInUse());
        boolean cold = !isWarm(b, r, now);
        if (cold) {
            ColdStart c = coldStart(b, r.modelKey(), now, confidence(), planner.current(), null);
            if (!c.victims().isEmpty()) {
                long until = now + c.waitNanos() + 2 * cost.speeds(b.name(), r.modelKey()).loadNanos();
                Map<String, Long> d = doomed.computeIfAbsent(b.name(), k -> new ConcurrentHashMap<>());
                for (String v : c.victims()) {
                    d.put(v, until);
                }
            }
            Map<String, Long> d = doomed.get(b.name());
            if (d != null) {
                d.remove(r.modelKey());
            }
        }
        Speeds s = cost.speeds(b.name(), r.modelKey());
        RequestEstimate e = r.estimate();
        long upfront = (cold ? s.loadNanos() : 0) + s.prefillNanos(e.promptTokens()) + OVERHEAD_NANOS;
        double tps = s.decodeTps(streams);
        long service = upfront + (long) (specificOutput(r) / tps * 1e9);
        long generic = upfront + (long) (genericOutput(r) / tps * 1e9);
        RunningJob job = new RunningJob(r, b.name(), r.modelKey(), runnerOptions(r), now, upfront, tps,
                cap(r), e.embedding(), service, generic,
                streamTime(b.name()).start(now));
        workload.start(job);
        endFloor(b.name()).started(now + (long) endFloorNanos(job, now,
                e.embedding() ? null : estimator.outputs(r.modelKey())));
        affinity.record(r.modelKey(), r.request().prefixHash(), b.name(), now);
        return new Prediction(b.name(), service, now + service, cold, streams, upfront);
    }

    /** {@code r} ended on {@code b} (its slot not yet released): learn from what Ollama reported. */
    void completed(PendingRequest r, Backend b, TimingSample sample) {
        long now = now();
        RunningJob job = workload.finish(b.name(), r);
        workload.touch(b.name(), r.modelKey(), runnerOptions(r), now);
        // The mark after this stream's end: its integrals run to now, and only the level (which between() does not
        // read) tells it from the one before.
        StreamTime.Mark end = job == null ? null : streamTime(b.name()).finish(now);
        if (sample == null || sample == TimingSample.EMPTY || (!sample.hasDecode() && sample.promptEvalCount() == 0)) {
            return;
        }
        DecodeShare share = job == null ? DecodeShare.constant(Math.max(1, b.slotsInUse()))
                : StreamTime.between(job.streams(), end, sample.evalDurationNs());
        RequestEstimate e = r.estimate();
        cost.record(b.name(), r.modelKey(), sample, share);
        estimator.learn(r.modelKey(), e, sample);
        errors.recordPrompt(e.promptTokens(), sample.promptEvalCount());
        if (!e.embedding()) {
            errors.recordOutput(e.expectedOutputTokens(), sample.evalCount());
        }
        if (job != null) {
            long actual = now - job.startNanos();
            errors.recordFinish(job.serviceNanos(), actual);
            // Judge both predictors where they can differ: at dispatch, and half-way through the run, where the
            // specific one conditions on what has elapsed and the generic one does not.
            quality.record(job.serviceNanos(), job.genericNanos(), actual);
            long half = actual / 2;
            quality.record(remainingNanos(job, job.startNanos() + half, 1.0), job.genericNanos(), actual - half);
        }
    }

    /** {@code r} never really ran on {@code b} (its connection failed): forget it there. */
    void abandoned(PendingRequest r, Backend b) {
        if (workload.finish(b.name(), r) != null) {
            streamTime(b.name()).finish(now());
        }
    }

    /** Whether a request for {@code model} is running on {@code b}. */
    public boolean runsOn(Backend b, String model) {
        return workload.runs(b.name(), model);
    }

    /** Jobs this scheduler has running on {@code b}. */
    public List<RunningJob> running(Backend b) {
        return List.copyOf(workload.running(b.name()));
    }

    private double specificOutput(PendingRequest r) {
        RequestEstimate e = r.estimate();
        if (e.embedding()) {
            return 0;
        }
        return estimator.expectedOutputTokens(r.modelKey(), cap(r));
    }

    private double genericOutput(PendingRequest r) {
        if (r.estimate().embedding()) {
            return 0;
        }
        double mean = estimator.meanOutputTokens(r.modelKey());
        int cap = cap(r);
        return cap >= 0 ? Math.min(cap, mean) : mean;
    }

    private static int cap(PendingRequest r) {
        RequestEstimate e = r.estimate();
        return e.hasCap() ? e.outputCap() : r.request().maxOutputTokens();
    }

    static String runnerOptions(PendingRequest r) {
        String o = r.request().runnerOptionsKey();
        return o == null ? "" : o;
    }
}
