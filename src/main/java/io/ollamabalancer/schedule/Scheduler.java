package io.ollamabalancer.schedule;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.estimate.TimingSample;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Admission and late-binding dispatch of inference requests.
 *
 * <p>Every request is put in its model's {@link ModelQueue} and then the queue is drained: the head leaves only when
 * the {@link DispatchPolicy} names a backend whose slot this thread then wins (CAS), and only the thread whose
 * {@link ModelQueue#remove} succeeds dispatches it. Whoever changes state that could let work start (a submit, a
 * released slot, a backend coming back) drains afterwards, so no wake-up is lost without any lock: of two racing
 * threads, at least one sees both changes.
 *
 * <p>Thread-safety: all public methods may be called from any thread. {@link DispatchTarget} callbacks run on the
 * calling thread; targets hop to their own event loop.
 */
public final class Scheduler implements AutoCloseable {
    static final String BUSY = "server busy, please try again.  maximum pending requests exceeded";

    private final Fleet fleet;
    private final DispatchPolicy policy;
    private final LongSupplier nanoTime;
    private final int maxDepth;
    private final long maxWaitNanos;
    private final Map<String, ModelQueue> queues = new ConcurrentHashMap<>();
    private final Map<PendingRequest, ModelQueue.QueueKey> keys = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer;

    public Scheduler(Fleet fleet, DispatchPolicy policy, int maxDepth, long maxWaitNanos, LongSupplier nanoTime,
                     boolean startTimer) {
        this.fleet = fleet;
        this.policy = policy;
        this.nanoTime = nanoTime;
        this.maxDepth = maxDepth;
        this.maxWaitNanos = maxWaitNanos;
        if (startTimer) {
            timer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "scheduler-timer");
                t.setDaemon(true);
                return t;
            });
            timer.scheduleWithFixedDelay(this::sweep, 100, 100, TimeUnit.MILLISECONDS);
        } else {
            timer = null;
        }
    }

    public DispatchPolicy policy() {
        return policy;
    }

    /** Admits a request: it is dispatched, queued, or rejected (404 unknown model, 503 no backend or queue full). */
    public void submit(PendingRequest request) {
        String key = request.modelKey();
        List<Backend> candidates = fleet.candidates(key, request.excluded());
        if (candidates.isEmpty()) {
            if (!request.transition(PendingRequest.State.NEW, PendingRequest.State.CANCELLED)
                    && !request.transition(PendingRequest.State.QUEUED, PendingRequest.State.CANCELLED)) {
                return;
            }
            if (fleet.anyHas(key)) {
                request.target().reject(503, "no healthy backend has model '" + request.request().model() + "'", 1);
            } else {
                request.target().reject(404, "model '" + request.request().model() + "' not found", 0);
            }
            return;
        }
        ModelQueue queue = queues.computeIfAbsent(key, ModelQueue::new);
        if (queue.size() >= maxDepth) {
            if (request.transition(PendingRequest.State.NEW, PendingRequest.State.CANCELLED)) {
                request.target().reject(503, BUSY, 1);
            }
            return;
        }
        if (request.state() == PendingRequest.State.NEW) {
            request.enqueuedNanos(nanoTime.getAsLong());
            if (!request.transition(PendingRequest.State.NEW, PendingRequest.State.QUEUED)) {
                return;
            }
        }
        keys.put(request, queue.offer(request, request.enqueuedNanos()));
        drain(queue);
    }

    /** The client left: drop the request if it has not started. Returns whether it was still waiting. */
    public boolean cancel(PendingRequest request) {
        if (!request.cancel()) {
            return false;
        }
        ModelQueue.QueueKey key = keys.remove(request);
        ModelQueue queue = queues.get(request.modelKey());
        if (key != null && queue != null) {
            queue.remove(key, request);
        }
        return true;
    }

    /** The request's upstream exchange ended: free its slot, learn, and let waiting work start. */
    public void complete(PendingRequest request, Backend backend, TimingSample sample) {
        backend.releaseSlot();
        policy.onCompleted(request, backend, sample == null ? TimingSample.EMPTY : sample);
        drainAll();
    }

    /**
     * The connection to {@code backend} failed before anything was sent: free the slot and put the request back at
     * its place, excluding that backend.
     */
    public void retryElsewhere(PendingRequest request, Backend backend) {
        backend.releaseSlot();
        request.excluded().add(backend);
        if (request.transition(PendingRequest.State.DISPATCHED, PendingRequest.State.QUEUED)) {
            submit(request);
        }
        drainAll();
    }

    /** Lets waiting work start everywhere (after a release, a backend recovering, a model appearing). */
    public void drainAll() {
        for (ModelQueue q : queues.values()) {
            if (!q.isEmpty()) {
                drain(q);
            }
        }
    }

    private void drain(ModelQueue queue) {
        for (;;) {
            Map.Entry<ModelQueue.QueueKey, PendingRequest> head = queue.peek();
            if (head == null) {
                return;
            }
            PendingRequest request = head.getValue();
            if (request.isCancelled()) {
                queue.remove(head.getKey(), request);
                keys.remove(request);
                continue;
            }
            List<Backend> candidates = fleet.candidates(queue.modelKey(), request.excluded());
            if (candidates.isEmpty()) {
                if (queue.remove(head.getKey(), request)) {
                    keys.remove(request);
                    if (request.transition(PendingRequest.State.QUEUED, PendingRequest.State.CANCELLED)) {
                        request.target().reject(503, "no healthy backend has model '"
                                + request.request().model() + "'", 1);
                    }
                }
                continue;
            }
            Backend chosen = policy.choose(request, candidates);
            if (chosen == null) {
                return;
            }
            if (!chosen.tryAcquireSlot()) {
                continue;
            }
            if (!queue.remove(head.getKey(), request)) {
                chosen.releaseSlot();
                continue;
            }
            keys.remove(request);
            if (!request.transition(PendingRequest.State.QUEUED, PendingRequest.State.DISPATCHED)) {
                chosen.releaseSlot();
                continue;
            }
            request.dispatchedNanos(nanoTime.getAsLong());
            policy.onDispatched(request, chosen);
            request.target().dispatch(chosen);
        }
    }

    /** Expires requests that waited longer than allowed, and retries dispatch (policies may wait on estimates). */
    void sweep() {
        long now = nanoTime.getAsLong();
        for (ModelQueue q : queues.values()) {
            for (Map.Entry<ModelQueue.QueueKey, PendingRequest> e : q.entries()) {
                PendingRequest r = e.getValue();
                if (now - r.enqueuedNanos() > maxWaitNanos && q.remove(e.getKey(), r)) {
                    keys.remove(r);
                    if (r.transition(PendingRequest.State.QUEUED, PendingRequest.State.CANCELLED)) {
                        r.target().reject(503, BUSY, 1);
                    }
                }
            }
        }
        drainAll();
    }

    /** Requests waiting for this model (0 when none). */
    public int queueDepth(String modelKey) {
        ModelQueue q = queues.get(modelKey);
        return q == null ? 0 : q.size();
    }

    public Map<String, ModelQueue> queues() {
        return queues;
    }

    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
        }
    }
}
