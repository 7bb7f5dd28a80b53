package io.ollamabalancer.replay;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.backend.HealthPolicy;
import io.ollamabalancer.backend.ModelNames;
import io.ollamabalancer.backend.ResidentModel;
import io.ollamabalancer.config.BackendConfig;
import io.ollamabalancer.estimate.CostHints;
import io.ollamabalancer.estimate.EstimatorSettings;
import io.ollamabalancer.estimate.TimingSample;
import io.ollamabalancer.estimate.TokenCounter;
import io.ollamabalancer.request.InferenceRequest;
import io.ollamabalancer.request.MalformedRequestException;
import io.ollamabalancer.request.RequestJsonParser;
import io.ollamabalancer.schedule.DispatchTarget;
import io.ollamabalancer.schedule.ModelQueue;
import io.ollamabalancer.schedule.PendingRequest;
import io.ollamabalancer.schedule.QueueLimits;
import io.ollamabalancer.schedule.QueueOrder;
import io.ollamabalancer.schedule.SchedulerSettings;
import io.ollamabalancer.schedule.ShareFlow;
import io.ollamabalancer.schedule.Scheduling;
import io.ollamabalancer.sim.SimulatorConfig;

import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.function.IntFunction;

/**
 * Discrete-event replay of a {@link Trace} through the real {@link Scheduling} (estimator, predictor, policy,
 * scheduler, as the server wires them, with the tokenizer) against virtual simulators in virtual time. Bodies are
 * parsed by the balancer's own parser; a virtual simulator follows {@link SimFleet}'s timing model (each stream of a
 * multi-slot backend decodes at the speed the streams running at each moment leave it, as on the simulator, where each
 * token's interval depends on the slots busy when it is drawn) and reports Ollama's
 * timing fields, so the scheduler learns as in production. Not modelled: network and proxy overheads, jitter, the
 * lag of {@code /api/ps} polling (a finished load is seen at once).
 *
 * <p>Single-threaded: everything runs on the caller's thread; one instance per run.
 */
public final class VirtualReplay {
    /** How often waiting work is re-planned while anything waits (the scheduler's sweep). */
    static final double SWEEP_SECONDS = 0.1;

    private final Trace trace;
    private final String policy;
    private final PriorityQueue<Event> events = new PriorityQueue<>();
    private final Map<String, Virtual> virtual = new HashMap<>();
    private final Outcome[] outcomes;
    private final RequestJsonParser parser = new RequestJsonParser();
    private final Scheduling scheduling;
    private final Fleet fleet;
    private long now;
    private long seq;
    /** Loads started by preloads, by the slot of the request that arrived last before each. */
    private final int[] preloads;
    private int lastArrived = -1;
    private final VirtualMemory.Clock clock = new VirtualMemory.Clock() {
        @Override
        public long now() {
            return now;
        }

        @Override
        public void at(long nanos, Runnable action) {
            push(nanos, action);
        }
    };
    private boolean sweepPending;
    /** Who is shown the scheduler after every event ({@link Watch#NONE}: nobody). */
    private Watch watch = Watch.NONE;
    /** The fair-share flow (API key) of each trace request, by its position in the trace. */
    private final IntFunction<ShareFlow> flows;

    private VirtualReplay(SimFleet sims, Trace trace, String policy, QueueOrder order) {
        // Keyless traces: fair share off, as the balancer runs it without API keys (SchedulerSettings.from).
        this(sims, trace, policy, order, false, i -> ShareFlow.DEFAULT);
    }

    private VirtualReplay(SimFleet sims, Trace trace, String policy, QueueOrder order, boolean fairShare,
                          IntFunction<ShareFlow> flows) {
        this.flows = flows;
        this.trace = trace;
        this.policy = policy;
        this.outcomes = new Outcome[trace.size()];
        List<BackendConfig> configs = new ArrayList<>();
        for (SimulatorConfig c : sims.sims()) {
            List<String> models = c.models().stream().map(m -> m.name()).toList();
            configs.add(new BackendConfig(c.name(), URI.create("http://127.0.0.1:1"), c.slots(), models, true));
            virtual.put(c.name(), new Virtual(c));
        }
        // Health on the virtual clock too: a backend's slow start or ejection must not follow the wall clock.
        this.fleet = new Fleet(configs, HealthPolicy.defaults(), () -> now);
        for (Backend b : fleet.all()) {
            Virtual v = virtual.get(b.name());
            v.backend = b;
            // What the balancer's /api/tags poll would tell it: each model's size.
            for (io.ollamabalancer.sim.SimModel m : v.sim.models()) {
                b.memory().installedSize(ModelNames.normalize(m.name()), m.sizeBytes());
            }
            v.publish();
        }
        SchedulerSettings settings = SchedulerSettings.defaults()
                .withOrder(order, order == QueueOrder.SJF ? SchedulerSettings.defaults().aging() : 0)
                .withLimits(new QueueLimits(1_000_000, Long.MAX_VALUE / 4)).withFairShare(fairShare);
        scheduling = Scheduling.create(fleet, settings, policy, CostHints.defaults(), EstimatorSettings.defaults(),
                TokenCounter.shared(), () -> now, false, Runnable::run);
        // Ollama's preload: the model loads (evicting as a request would) and is released at once. Its load counts
        // against the request that arrived last before it, so loads per 100 requests include preloads.
        this.preloads = new int[trace.size()];
        scheduling.scheduler().prewarmer((b, model) -> {
            VirtualMemory memory = virtual.get(b.name()).memory;
            if (memory.acquire(model, ready -> memory.release(model)) && lastArrived >= 0) {
                preloads[lastArrived]++;
            }
        });
    }

    /**
     * What a replay did besides its outcomes.
     *
     * @param outcomes  one per trace request, in trace order
     * @param loads     model loads completed on the virtual simulators
     * @param evictions models unloaded to make room
     */
    public record Result(List<Outcome> outcomes, int loads, int evictions) {
    }

    /** As {@link #run(SimFleet, Trace, String)}, with the memory figures. */
    public static Result runDetailed(SimFleet sims, Trace trace, String policy) {
        return runWatched(sims, trace, policy, Watch.NONE);
    }

    /**
     * Who looks at the scheduler while a replay runs (for a timeline of its placement plans). Called on the replay's
     * thread; must not change what it is shown.
     */
    public interface Watch {
        Watch NONE = new Watch() {
            @Override
            public void event(long nanos, Scheduling scheduling, Fleet fleet) {
            }

            @Override
            public void done(long nanos, Scheduling scheduling, Fleet fleet) {
            }
        };

        /** After the event at virtual time {@code nanos} was handled. */
        void event(long nanos, Scheduling scheduling, Fleet fleet);

        /** Once every request has ended, before the scheduler is closed. */
        void done(long nanos, Scheduling scheduling, Fleet fleet);
    }

    /** As {@link #runDetailed}, showing {@code watch} the scheduler after every event. */
    public static Result runWatched(SimFleet sims, Trace trace, String policy, Watch watch) {
        VirtualReplay replay = new VirtualReplay(sims, trace, policy, QueueOrder.SJF);
        replay.watch = watch;
        List<Outcome> outcomes = replay.execute();
        int loads = 0;
        int evictions = 0;
        for (Virtual v : replay.virtual.values()) {
            loads += v.memory.loads();
            evictions += v.memory.evictions();
        }
        return new Result(outcomes, loads, evictions);
    }

    /** Replays {@code trace} on {@code sims} with the production queue order (SJF). */
    public static List<Outcome> run(SimFleet sims, Trace trace, String policy) {
        return run(sims, trace, policy, QueueOrder.SJF);
    }

    public static List<Outcome> run(SimFleet sims, Trace trace, String policy, QueueOrder order) {
        return new VirtualReplay(sims, trace, policy, order).execute();
    }

    /**
     * Replays {@code trace} with the production queue order, each request sent under the API key {@code flows}
     * names for its position in the trace, with fair share between keys on or off.
     */
    public static List<Outcome> runWithKeys(SimFleet sims, Trace trace, String policy, boolean fairShare,
                                            IntFunction<ShareFlow> flows) {
        return new VirtualReplay(sims, trace, policy, QueueOrder.SJF, fairShare, flows).execute();
    }

    private List<Outcome> execute() {
        for (int i = 0; i < trace.size(); i++) {
            int slot = i;
            TraceRequest r = trace.requests().get(i);
            push(nanos(r.at()), () -> arrive(r, slot));
        }
        while (!events.isEmpty()) {
            Event e = events.poll();
            now = e.at;
            // The production sweep timer remakes the plan every 100 ms; here, at every event (cheap when fresh).
            scheduling.scheduler().replan();
            e.action.run();
            watch.event(now, scheduling, fleet);
            if (!sweepPending && anyWaiting()) {
                sweepPending = true;
                push(now + nanos(SWEEP_SECONDS), () -> {
                    sweepPending = false;
                    scheduling.scheduler().sweep();
                });
            }
        }
        List<Outcome> out = new ArrayList<>(Arrays.asList(outcomes));
        for (int i = 0; i < out.size(); i++) {
            Outcome o = out.get(i);
            if (o == null) {
                TraceRequest r = trace.requests().get(i);
                out.set(i, Outcome.failed(r.id(), r.priority(), -1, policy + ": never completed"));
            } else if (preloads[i] > 0 && o.loadsStarted() >= 0) {
                out.set(i, o.withLoad(o.loadSeconds(), o.loadsStarted() + preloads[i]));
            }
        }
        watch.done(now, scheduling, fleet);
        scheduling.close();
        return out;
    }

    private boolean anyWaiting() {
        for (ModelQueue q : scheduling.scheduler().queues().values()) {
            if (!q.isEmpty()) {
                return true;
            }
        }
        return false;
    }

    private void arrive(TraceRequest r, int slot) {
        lastArrived = slot;
        InferenceRequest parsed;
        try {
            byte[] body = r.bodyBytes();
            parsed = parser.parse(body, 0, body.length, r.shape());
        } catch (MalformedRequestException e) {
            outcomes[slot] = Outcome.failed(r.id(), r.priority(), 0, "400 " + e.getMessage());
            return;
        }
        long arrival = now;
        PendingRequest[] self = new PendingRequest[1];
        DispatchTarget target = new DispatchTarget() {
            @Override
            public void dispatch(Backend backend) {
                started(r, slot, self[0], backend);
            }

            @Override
            public void reject(int status, String message, long retryAfterSeconds) {
                outcomes[slot] = Outcome.failed(r.id(), r.priority(), (now - arrival) / 1e9,
                        status + " " + message);
            }
        };
        PendingRequest p = new PendingRequest(r.id(), parsed, ModelNames.normalize(parsed.model()),
                r.priorityValue(), arrival, target);
        self[0] = p;
        p.shareFlow(flows.apply(slot));
        scheduling.estimate(p, r.shape());
        scheduling.scheduler().submit(p);
    }

    private void started(TraceRequest r, int slot, PendingRequest p, Backend b) {
        Virtual v = virtual.get(b.name());
        long start = now;
        // As on the simulator, a request counts among the streams sharing the decoder from the moment it holds a
        // slot, while its model loads too (the balancer counts it from dispatch).
        v.changed(+1);
        boolean[] asked = new boolean[1];
        asked[0] = v.memory.acquire(p.modelKey(), ready -> generate(r, slot, p, b, v, start, ready, asked[0]));
    }

    /**
     * The model is ready on {@code v} at {@code ready} (now or later) for {@code p}, which got its slot at start. Its
     * decode starts after the load and the prefill and runs, as on the simulator, at the speed the streams running at
     * each moment leave it ({@link Virtual#changed}).
     */
    private void generate(TraceRequest r, int slot, PendingRequest p, Backend b, Virtual v, long start, long ready,
                          boolean startedLoad) {
        SimulatorConfig sim = v.sim;
        long load = ready - start + nanos(SimFleet.WARM_SECONDS);
        long prefill = nanos(SimFleet.prefillSeconds(r, sim));
        long decodeStart = start + load + prefill;
        long arrival = p.arrivalNanos();
        double queue = (start - arrival) / 1e9;
        int estimate = p.estimate().promptTokens();
        push(decodeStart, () -> {
            double ttft = (now + nanos(SimFleet.tokenSeconds(sim, v.active)) - arrival) / 1e9;
            v.decode(new Decoding(r.outputTokens(), () -> {
                long decode = now - decodeStart;
                TimingSample sample = new TimingSample(r.promptTokens(), prefill, r.outputTokens(), decode, load,
                        now - start);
                v.changed(-1);
                v.memory.release(p.modelKey());
                outcomes[slot] = new Outcome(r.id(), r.priority(), b.name(), (now - arrival) / 1e9, ttft, queue,
                        null, estimate, r.promptTokens(), r.outputTokens(), 0, load / 1e9, startedLoad ? 1 : 0);
                scheduling.scheduler().complete(p, b, sample);
            }));
        });
    }

    /** A decode in progress on a virtual simulator: the tokens it has left, and what to do when none are. */
    private static final class Decoding {
        double tokensLeft;
        /** Bumped whenever its end is rescheduled: an end event of an older version is stale. */
        long version;
        final Runnable done;

        Decoding(double tokens, Runnable done) {
            this.tokensLeft = tokens;
            this.done = done;
        }
    }

    private static long nanos(double seconds) {
        return (long) (seconds * 1e9);
    }

    private void push(long at, Runnable action) {
        events.add(new Event(at, seq++, action));
    }

    /** A virtual simulator's state: its model memory and the generations running. */
    private final class Virtual {
        final SimulatorConfig sim;
        final VirtualMemory memory;
        Backend backend;
        /** Generations holding a slot (loading their model, prefilling or decoding): they share the decoder. */
        int active;
        final List<Decoding> decoding = new ArrayList<>();
        /** When the decodes' tokens left were last brought up to date. */
        long settled;

        Virtual(SimulatorConfig sim) {
            this.sim = sim;
            this.memory = new VirtualMemory(sim, clock, this::publish);
        }

        /** The generations sharing the decoder change by {@code delta}: every decode's end moves. */
        void changed(int delta) {
            settle();
            active += delta;
            reschedule();
        }

        /** {@code d} starts decoding now. */
        void decode(Decoding d) {
            settle();
            decoding.add(d);
            reschedule();
        }

        /** Each decode's tokens left, at the speed the streams running since the last change left it. */
        private void settle() {
            double seconds = (now - settled) / 1e9;
            settled = now;
            if (seconds <= 0 || decoding.isEmpty()) {
                return;
            }
            double tokens = seconds / SimFleet.tokenSeconds(sim, active);
            for (Decoding d : decoding) {
                d.tokensLeft = Math.max(0, d.tokensLeft - tokens);
            }
        }

        private void reschedule() {
            double interval = SimFleet.tokenSeconds(sim, active);
            for (Decoding d : decoding) {
                long version = ++d.version;
                push(now + nanos(d.tokensLeft * interval), () -> {
                    if (d.version == version && decoding.remove(d)) {
                        d.done.run();
                    }
                });
            }
        }

        /** What the balancer's {@code /api/ps} poll would see, seen at once (the simulation has no poll lag). */
        void publish() {
            if (backend == null) {
                return;
            }
            List<ResidentModel> resident = memory.resident();
            Set<String> keys = new HashSet<>();
            for (ResidentModel m : resident) {
                keys.add(m.key());
            }
            backend.updateLoaded(keys);
            backend.memory().observe(resident, now / 1_000_000L);
        }
    }

    private record Event(long at, long seq, Runnable action) implements Comparable<Event> {
        @Override
        public int compareTo(Event o) {
            int c = Long.compare(at, o.at);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }
}
