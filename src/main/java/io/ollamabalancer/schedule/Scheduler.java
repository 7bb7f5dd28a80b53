package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.FailureKind;
import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.estimate.TimingSample;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.HashSet;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.LongSupplier;

/**
 * Admission and late-binding dispatch of inference requests.
 *
 * <h2>Design</h2>
 * Every admitted request waits in its model's {@link ModelQueue}, ordered by priority, then by
 * {@link QueueOrder} (shortest expected job first with aging, or FIFO). With fair share on (the default), the
 * order within a priority starts from the request's {@link FairQueuing} tag instead of its enqueue time, so API keys
 * ({@link ShareFlow}s) are served in proportion to their weights in expected work, and a key that floods waits
 * behind its own requests. A request leaves only when a slot is
 * free: the {@link DispatchPolicy} looks at the first waiting requests of all models merged in key order
 * ({@link QueueWindow}, so models competing for the same backends are planned together) and names one and a
 * backend with a free slot, or nothing; this thread then takes the slot (CAS on the backend's counter), and only
 * the thread whose {@link ModelQueue#remove} succeeds dispatches. A thread that took a slot but lost the entry (or
 * the request was cancelled meanwhile) gives the slot back and plans again, since another request may have been
 * refused that slot.
 *
 * <p>No wake-up is lost, without any lock: whoever changes state that could let work start (a submit, a released
 * slot, a backend coming back) drains afterwards, so of two racing threads at least one sees both changes. A
 * policy may also keep work waiting on purpose (for a faster busy backend); a timer re-plans every
 * {@link SchedulerSettings#sweepInterval()} and expires requests past their model's maximum wait.
 *
 * <h2>Guarantees</h2>
 * <ul>
 *   <li>Each request gets at most one {@link DispatchTarget} call; a request cancelled before dispatch gets none,
 *       and no backend ever sees it.</li>
 *   <li>Slots in use never exceed a backend's {@code maxConcurrency}; every dispatch holds exactly one slot until
 *       {@link #complete} or {@link #retryElsewhere}.</li>
 *   <li>Past a model's {@link QueueLimits} the client gets 503 with Ollama's "server busy" text and a
 *       {@code Retry-After} from the queue's estimated drain time.</li>
 * </ul>
 *
 * <p>Thread-safety: all public methods may be called from any thread. {@link DispatchTarget} callbacks run on the
 * calling thread; targets hop to their own event loop.
 */
public final class Scheduler implements AutoCloseable {
    static final String BUSY = "server busy, please try again.  maximum pending requests exceeded";
    private static final Logger LOG = LoggerFactory.getLogger(Scheduler.class);
    private static final int MAX_LOST_RACES = 64;
    private static final long MAX_RETRY_AFTER_SECONDS = 3600;

    private final Fleet fleet;
    private final DispatchPolicy policy;
    private final Predictor predictor;
    private final SchedulerSettings settings;
    private final Map<String, ModelQueue> queues = new ConcurrentHashMap<>();
    /**
     * The same queues as an array, for the merge of every decision (iterating the map walks its whole table).
     * Replaced, under {@link #queues}' lock, before a new queue gets its first request.
     */
    private volatile List<ModelQueue> queueList = List.of();
    private final ScheduledExecutorService timer;
    private volatile QueueListener listener = QueueListener.NONE;
    private volatile Prewarmer prewarmer = Prewarmer.NONE;
    private volatile ColdDispatchListener coldDispatches = ColdDispatchListener.NONE;
    /** Backend name → until when (scheduler clock) a preload sent there is taken to be under way. */
    private final Map<String, Long> preloading = new ConcurrentHashMap<>();
    /** Fair share between API keys within a priority, or {@code null} when off. */
    private final FairQueuing fairQueuing;

    /**
     * The original constructor: FIFO queues with the given limits and a private {@link Predictor} (default hints,
     * no tokenizer). Prefer {@link Scheduling#create}.
     */
    public Scheduler(Fleet fleet, DispatchPolicy policy, int maxDepth, long maxWaitNanos, LongSupplier nanoTime,
                     boolean startTimer) {
        this(fleet, policy, Predictor.standalone(fifo(maxDepth, maxWaitNanos), nanoTime),
                fifo(maxDepth, maxWaitNanos), startTimer);
    }

    /**
     * @param predictor  shared with the policy (the {@code eft} policy plans with it); its clock is the scheduler's
     * @param startTimer run the sweep on a daemon thread (tests drive {@link #sweep()} themselves)
     */
    public Scheduler(Fleet fleet, DispatchPolicy policy, Predictor predictor, SchedulerSettings settings,
                     boolean startTimer) {
        this.fleet = fleet;
        this.policy = policy;
        this.predictor = predictor;
        this.settings = settings;
        this.fairQueuing = settings.fairShare() ? new FairQueuing(predictor::now) : null;
        predictor.planner().backends(fleet::all);
        predictor.demand().queueDepths(this::queueDepth);
        if (startTimer) {
            timer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "scheduler-timer");
                t.setDaemon(true);
                return t;
            });
            long every = Math.max(1, settings.sweepInterval().toMillis());
            timer.scheduleWithFixedDelay(this::sweepSafely, every, every, TimeUnit.MILLISECONDS);
            // Learning from a completion runs on its event loop; the fit it triggers (up to 0.6 ms) runs here.
            predictor.costModel().rebuildOn(timer);
        } else {
            timer = null;
        }
    }

    private static SchedulerSettings fifo(int maxDepth, long maxWaitNanos) {
        return SchedulerSettings.defaults().withOrder(QueueOrder.FIFO, 0)
                .withLimits(new QueueLimits(maxDepth, maxWaitNanos));
    }

    public DispatchPolicy policy() {
        return policy;
    }

    public Predictor predictor() {
        return predictor;
    }

    public SchedulerSettings settings() {
        return settings;
    }

    /** Admits a request: it is dispatched, queued, or rejected (404 unknown model, 503 no backend or queue full). */
    public void submit(PendingRequest request) {
        PendingRequest.State state = request.state();
        if (state != PendingRequest.State.NEW && state != PendingRequest.State.QUEUED) {
            return;
        }
        String key = request.modelKey();
        List<Backend> candidates = request.excluded().candidates(fleet, key);
        if (candidates.isEmpty()) {
            if (request.transition(state, PendingRequest.State.CANCELLED)) {
                if (fleet.anyHas(key)) {
                    request.target().reject(503, noBackend(request), 1);
                } else {
                    request.target().reject(404, "model '" + request.request().model() + "' not found", 0);
                }
            }
            return;
        }
        ModelQueue queue = queues.get(key);
        if (queue == null) {
            queue = newQueue(key);
        }
        if (state == PendingRequest.State.NEW) {
            if (queue.size() >= settings.limitsFor(key).maxDepth()) {
                if (request.transition(state, PendingRequest.State.CANCELLED)) {
                    request.target().reject(503, BUSY, retryAfterSeconds(queue, candidates));
                }
                return;
            }
            request.enqueuedNanos(predictor.now());
            if (!request.transition(state, PendingRequest.State.QUEUED)) {
                return;
            }
        }
        boolean arriving = state == PendingRequest.State.NEW;
        request.referenceWorkNanos(predictor.size(request, arriving, request.enqueuedNanos()));
        long mirrorOrder = settings.order().key(request.enqueuedNanos(), request.referenceWorkNanos(), settings.aging());
        request.mirrorOrderNanos(mirrorOrder);
        long order = mirrorOrder;
        if (fairQueuing != null) {
            fairQueuing.entering(request); // counted before it is tagged (its own weight is in the active sum)
            order = settings.order().key(fairQueuing.startTag(request, slots(candidates)),
                    request.referenceWorkNanos(), settings.aging());
        }
        policy.onQueued(request, candidates);
        // Tell the listener before the entry becomes visible: a drain on another thread may take it at once, and
        // its "left" must never arrive before this "queued" (the cluster mirror would keep a phantom waiter).
        listener.queued(key, request.id(), request.priority(), mirrorOrder, request.estimate().promptTokens(),
                request.estimate().expectedOutputTokens());
        if (startAlone(request, candidates)) {
            return;
        }
        ModelQueue.QueueKey k = queue.keyFor(request, order);
        request.queueKey(k);
        queue.offer(k, request);
        if (request.isCancelled()) {
            remove(queue, k, request);
            policy.onRemoved(request);
            return;
        }
        // The candidates just looked up are its model's for the first decision, when it failed nowhere.
        drain(request.excluded().isEmpty() ? key : null, candidates);
    }

    /**
     * The common case: nothing else waits, so the decision a drain would make over the queues is the one the policy
     * makes for this request alone (a window of one). When that starts it at once, it never enters the queue: no
     * queue key, no insertion into and removal from the queue's skip list that every event loop writes to. Returns
     * false, having changed nothing, when something waits, the policy keeps the request waiting, or a race was lost
     * (the slot went to another thread, or a cancel came first): the caller queues it and drains as before.
     */
    private boolean startAlone(PendingRequest request, List<Backend> candidates) {
        if (anyWaiting() || request.isCancelled() || !anyFreeSlot()) {
            return false;
        }
        Selection choice = policy.select(QueueWindow.of(request, candidates));
        if (choice == null) {
            return false;
        }
        Backend backend = choice.backend();
        if (!backend.tryAcquireSlot()) {
            return false;
        }
        if (!request.transition(PendingRequest.State.QUEUED, PendingRequest.State.DISPATCHED)) {
            // Cancelled meanwhile: the caller's queueing finds that out; the slot may be what another one waits for.
            backend.releaseSlot();
            drainAll();
            return false;
        }
        // What removing it from the queue would have told.
        if (fairQueuing != null) {
            fairQueuing.left(request);
        }
        listener.left(request.id());
        start(request, backend);
        drainAll();
        return true;
    }

    private static int slots(List<Backend> backends) {
        int n = 0;
        for (Backend b : backends) {
            n += b.maxConcurrency();
        }
        return n;
    }

    private ModelQueue newQueue(String key) {
        synchronized (queues) {
            ModelQueue q = queues.get(key);
            if (q == null) {
                q = new ModelQueue(key);
                List<ModelQueue> next = new ArrayList<>(queueList);
                next.add(q);
                queueList = List.copyOf(next);
                queues.put(key, q);
            }
            return q;
        }
    }

    /** Sets who loads models ahead of demand where the placement plan wants them ({@link Prewarmer#NONE}: off). */
    public void prewarmer(Prewarmer p) {
        prewarmer = p == null ? Prewarmer.NONE : p;
    }

    /** Sets who is told of a request started where its model is not loaded ({@link ColdDispatchListener#NONE}: nobody). */
    public void coldDispatchListener(ColdDispatchListener l) {
        coldDispatches = l == null ? ColdDispatchListener.NONE : l;
    }

    /**
     * Preloads what the placement plan wants resident where it is not, one model at a time per backend, and only
     * where the load would evict nothing the plan keeps there and nothing that is running. Beside a model the plan
     * keeps, only where the backend was seen to hold both at once (or its limits are configured): on a backend whose
     * limit was never seen, the preload would gamble the model in use, and a one-model server that evicts it and
     * loads it back between two polls would do so again at every preload without the balancer ever seeing why.
     */
    void prewarm() {
        Prewarmer p = prewarmer;
        if (p == Prewarmer.NONE || !policy.usesPlacement()) {
            return;
        }
        long now = predictor.now();
        PlacementPlan plan = predictor.placement();
        if (!plan.restricted()) {
            return;
        }
        double w = predictor.confidence();
        for (Backend b : fleet.all()) {
            Long until = preloading.get(b.name());
            if (until != null && until > now) {
                continue;
            }
            Set<String> wanted = plan.holds().get(b.name());
            if (wanted == null || !b.isAvailable()) {
                continue;
            }
            for (String m : wanted) {
                if (b.isLoaded(m) || !b.hasModel(m) || predictor.runsOn(b, m)) {
                    continue;
                }
                if (!preloadIsSafe(b, m, plan, now, w)) {
                    continue;
                }
                long load = predictor.costModel().speeds(b.name(), m).loadNanos();
                preloading.put(b.name(), now + 2 * Math.max(load, 1_000_000_000L));
                try {
                    p.preload(b, m);
                } catch (RuntimeException e) {
                    LOG.warn("preload of {} on {} failed: {}", m, b.name(), String.valueOf(e));
                }
                break;
            }
        }
    }

    /**
     * Whether loading {@code m} on {@code b} now waits for nothing and evicts only idle models the plan does not keep
     * there, and, beside a model the plan keeps, whether what stays once those are evicted was seen resident with
     * {@code m} at once (or the limits are configured).
     */
    boolean preloadIsSafe(Backend b, String m, PlacementPlan plan, long now, double w) {
        ColdStart cs = predictor.coldStart(b, m, now, w, plan, null);
        if (cs.waitNanos() != 0) {
            return false;
        }
        for (String v : cs.victims()) {
            if (plan.planned(b.name(), v) || predictor.runsOn(b, v)) {
                return false;
            }
        }
        if (!keepsResident(plan, b)) {
            return true;
        }
        // Judged on what stays: the models loaded now include the victims, and a set with them and m never fit.
        Set<String> stays = new HashSet<>(b.loadedModels());
        stays.removeAll(cs.victims());
        return b.memory().seenToHold(stays, m);
    }

    /** Whether a model the plan keeps on {@code b} is resident there now (a preload could evict it). */
    private static boolean keepsResident(PlacementPlan plan, Backend b) {
        for (String r : b.loadedModels()) {
            if (plan.planned(b.name(), r)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Remakes the placement plan when it is stale (every 2 s), for a policy that routes by it. Called by the sweep
     * timer, off the event loops: making a plan runs max-flow bisections over the fleet.
     */
    public void replan() {
        if (policy.usesPlacement()) {
            PlacementPlan before = predictor.planner().current();
            PlacementPlan after = predictor.planner().plan(predictor.now());
            if (after.restricted() && !after.holds().equals(before.holds())) {
                // Each change costs model loads: operators (and PlacementIT's output) need to see when and why.
                LOG.info("placement plan changed: {} (busiest backend utilisation {})", new TreeMap<>(after.holds()),
                        Math.round(after.utilisation() * 100) / 100.0);
            }
        }
    }

    /** Sets who hears about queue entries and freed slots (cluster mode mirrors them); never null. */
    public void listener(QueueListener l) {
        listener = l == null ? QueueListener.NONE : l;
    }

    /** Removes an entry; only the caller that really removed it tells the listener. */
    private boolean remove(ModelQueue queue, ModelQueue.QueueKey key, PendingRequest request) {
        boolean removed = queue.remove(key, request);
        if (removed) {
            if (fairQueuing != null) {
                fairQueuing.left(request);
            }
            listener.left(request.id());
        }
        return removed;
    }

    /** The client left: drop the request if it has not started. Returns whether it was still waiting. */
    public boolean cancel(PendingRequest request) {
        if (!request.cancel()) {
            return false;
        }
        ModelQueue.QueueKey key = request.queueKey();
        ModelQueue queue = queues.get(request.modelKey());
        if (key != null && queue != null) {
            remove(queue, key, request);
        }
        policy.onRemoved(request);
        return true;
    }

    /** The request's upstream exchange ended: learn, free its slot, and let waiting work start. */
    public void complete(PendingRequest request, Backend backend, TimingSample sample) {
        TimingSample s = sample == null ? TimingSample.EMPTY : sample;
        predictor.completed(request, backend, s);
        releaseSlot(backend);
        policy.onCompleted(request, backend, s);
        drainAll();
    }

    /**
     * The attempt on {@code backend} failed with {@code why} before anything was processed: free the slot and put the
     * request back at its place, excluding that backend ({@link Exclusions}: for good, or only while another
     * backend can serve, depending on {@code why}).
     */
    public void retryElsewhere(PendingRequest request, Backend backend, FailureKind why) {
        predictor.abandoned(request, backend);
        releaseSlot(backend);
        request.excluded().add(backend, why);
        policy.onRemoved(request);
        if (request.transition(PendingRequest.State.DISPATCHED, PendingRequest.State.QUEUED)) {
            submit(request);
        }
        drainAll();
    }

    /** Frees a slot, telling the listener before (it may hand the slot to another replica) and after. */
    private void releaseSlot(Backend backend) {
        QueueListener l = listener;
        boolean yielded = l.slotFreeing(backend.name());
        backend.releaseSlot();
        l.slotFreed(backend.name(), yielded);
    }

    /** Lets waiting work start everywhere (after a release, a backend recovering, a model appearing). */
    public void drainAll() {
        drain(null, null);
    }

    /**
     * As {@link #drainAll}; the first decision takes {@code known} as the candidates of {@code model}'s requests
     * that failed nowhere instead of walking the fleet for them again ({@code model} null: none known).
     */
    private void drain(String model, List<Backend> known) {
        int lost = 0;
        boolean first = true;
        // Nothing waiting (every completion of an unloaded fleet): no window, no candidate map, no fleet walk.
        while (lost < MAX_LOST_RACES && anyWaiting() && anyFreeSlot()) {
            Map<String, List<Backend>> unexcluded = new HashMap<>(4);
            if (model != null && first) {
                unexcluded.put(model, known);
            }
            first = false;
            QueueWindow window = QueueWindow.merged(queueList, policy.lookahead(), e -> admit(e, unexcluded));
            if (!window.has(0)) {
                return;
            }
            Selection choice = policy.select(window);
            if (choice == null) {
                return;
            }
            Map.Entry<ModelQueue.QueueKey, PendingRequest> entry = window.entry(choice.index());
            PendingRequest request = entry.getValue();
            Backend backend = choice.backend();
            if (!backend.tryAcquireSlot()) {
                lost++;
                continue;
            }
            if (!remove(queues.get(request.modelKey()), entry.getKey(), request)
                    || !request.transition(PendingRequest.State.QUEUED, PendingRequest.State.DISPATCHED)) {
                // Someone else won this request; the slot we give back may be what another one waits for,
                // and the next round of this loop sees it.
                backend.releaseSlot();
                lost++;
                continue;
            }
            start(request, backend);
        }
    }

    /** Whether any queue holds an entry; the window over empty queues would be empty. */
    private boolean anyWaiting() {
        List<ModelQueue> list = queueList;
        for (int i = 0, n = list.size(); i < n; i++) {
            if (!list.get(i).isEmpty()) {
                return true;
            }
        }
        return false;
    }

    /** Whether any available backend could start something now; when none can, planning is skipped. */
    private boolean anyFreeSlot() {
        for (Backend b : fleet.all()) {
            if (b.isAvailable() && b.hasFreeSlot()) {
                return true;
            }
        }
        return false;
    }

    /**
     * The entry's candidates, or null after dropping it (cancelled, or no backend can serve it any more). The
     * candidates of a request that failed nowhere depend on its model only: {@code unexcluded} keeps them per model
     * for one decision, so a window of many requests walks the fleet once per model, not once per request.
     */
    private List<Backend> admit(Map.Entry<ModelQueue.QueueKey, PendingRequest> e,
                                Map<String, List<Backend>> unexcluded) {
        PendingRequest r = e.getValue();
        ModelQueue queue = queues.get(r.modelKey());
        if (r.isCancelled()) {
            remove(queue, e.getKey(), r);
            return null;
        }
        List<Backend> candidates = r.excluded().isEmpty()
                ? unexcluded.computeIfAbsent(queue.modelKey(), m -> fleet.candidates(m, null))
                : r.excluded().candidates(fleet, queue.modelKey());
        if (candidates.isEmpty()) {
            if (remove(queue, e.getKey(), r)
                    && r.transition(PendingRequest.State.QUEUED, PendingRequest.State.CANCELLED)) {
                policy.onRemoved(r);
                r.target().reject(503, noBackend(r), 1);
            }
            return null;
        }
        return candidates;
    }

    private void start(PendingRequest request, Backend backend) {
        if (fairQueuing != null) {
            fairQueuing.dispatched(request);
        }
        request.dispatchedNanos(predictor.now());
        request.prediction(predictor.dispatched(request, backend));
        policy.onDispatched(request, backend);
        boolean cold = !backend.isLoaded(request.modelKey());
        try {
            request.target().dispatch(backend);
        } catch (RuntimeException e) {
            LOG.error("dispatch target failed for {} on {}", request, backend.name(), e);
        }
        if (cold) {
            try {
                coldDispatches.coldDispatch(backend, request.modelKey());
            } catch (RuntimeException e) {
                LOG.error("cold dispatch listener failed for {} on {}", request, backend.name(), e);
            }
        }
    }

    /** Expires requests that waited longer than allowed, and re-plans (policies may wait on estimates). */
    public void sweep() {
        long now = predictor.now();
        for (ModelQueue q : queues.values()) {
            long maxWait = settings.limitsFor(q.modelKey()).maxWaitNanos();
            for (Map.Entry<ModelQueue.QueueKey, PendingRequest> e : q.entries()) {
                PendingRequest r = e.getValue();
                if (now - r.enqueuedNanos() > maxWait && remove(q, e.getKey(), r)
                        && r.transition(PendingRequest.State.QUEUED, PendingRequest.State.CANCELLED)) {
                    policy.onRemoved(r);
                    r.target().reject(503, BUSY, retryAfterSeconds(q, fleet.candidates(q.modelKey(), null)));
                }
            }
        }
        replan();
        prewarm();
        drainAll();
    }

    private void sweepSafely() {
        try {
            sweep();
        } catch (RuntimeException e) {
            LOG.error("scheduler sweep failed", e);
        }
    }

    /** Seconds until {@code queue} is expected to have drained, at least 1. */
    private long retryAfterSeconds(ModelQueue queue, List<Backend> candidates) {
        long nanos = predictor.drainNanos(queue, candidates);
        long seconds = (nanos + 999_999_999L) / 1_000_000_000L;
        return Math.max(1, Math.min(MAX_RETRY_AFTER_SECONDS, seconds));
    }

    /** Expected time for the fleet to work off what waits for {@code modelKey} now (0 when nothing waits). */
    public long estimatedDrainNanos(String modelKey) {
        ModelQueue q = queues.get(modelKey);
        return q == null ? 0 : predictor.drainNanos(q, fleet.candidates(modelKey, null));
    }

    /**
     * Where {@code request} waits, with its expected start and finish, or {@code null} when it is not waiting
     * (dispatched, cancelled, refused). Read-only; walks its model's queue, so it is for the occasional caller
     * ({@code GET /balancer/requests/{id}}), never the dispatch path.
     */
    public QueuePosition position(PendingRequest request) {
        ModelQueue q = queues.get(request.modelKey());
        return q == null ? null
                : QueuePosition.of(q, request, predictor, request.excluded().candidates(fleet, request.modelKey()));
    }

    /** Requests waiting for this model (0 when none). */
    public int queueDepth(String modelKey) {
        ModelQueue q = queues.get(modelKey);
        return q == null ? 0 : q.size();
    }

    public Map<String, ModelQueue> queues() {
        return queues;
    }

    private static String noBackend(PendingRequest r) {
        return "no healthy backend has model '" + r.request().model() + "'";
    }

    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
        }
    }
}
