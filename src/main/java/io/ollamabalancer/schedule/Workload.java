package io.ollamabalancer.schedule;

import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The work this scheduler has running on each backend, and which model instance (runner options) each backend
 * last ran for each model and when. Keyed by backend name so a config reload that rebuilds {@code Backend}
 * objects keeps the ledger. Thread-safe: concurrent maps of immutable values.
 *
 * <p>Ordering contract with the slot counter: a job is added after its slot was taken and removed before the
 * slot is given back, so a backend's ledger never holds more jobs than its slots in use; the difference (slots
 * held by another balancer replica, or a dispatch in progress) is work of unknown kind.
 *
 * <p>A backend's jobs iterate in the order their requests were created, not in hash order: the eviction cost
 * ({@link Predictor#coldStart}) and the slot forecasts read them in iteration order, and a hash order keyed by
 * identity changed from one JVM to the next, so the same replay gave different figures.
 */
final class Workload {
    private static final Comparator<PendingRequest> CREATION = Comparator.comparingLong(PendingRequest::sequence);

    private final Map<String, Map<PendingRequest, RunningJob>> running = new ConcurrentHashMap<>();
    private final Map<String, Map<String, Instance>> instances = new ConcurrentHashMap<>();

    /**
     * What a backend last ran a model as: its runner options, and when it was last used. The time moves on in place
     * (every dispatch and completion touches it), so the map changes only when the runner options do.
     */
    static final class Instance {
        private final String runnerOptions;
        private volatile long lastUsedNanos;

        Instance(String runnerOptions, long lastUsedNanos) {
            this.runnerOptions = runnerOptions;
            this.lastUsedNanos = lastUsedNanos;
        }

        String runnerOptions() {
            return runnerOptions;
        }

        long lastUsedNanos() {
            return lastUsedNanos;
        }
    }

    void start(RunningJob job) {
        running.computeIfAbsent(job.backend(), b -> new ConcurrentSkipListMap<>(CREATION)).put(job.request(), job);
        touch(job.backend(), job.modelKey(), job.runnerOptions(), job.startNanos());
    }

    /** Removes and returns the job, or {@code null} when it was not running there. */
    RunningJob finish(String backend, PendingRequest request) {
        Map<PendingRequest, RunningJob> m = running.get(backend);
        return m == null ? null : m.remove(request);
    }

    Collection<RunningJob> running(String backend) {
        Map<PendingRequest, RunningJob> m = running.get(backend);
        return m == null ? List.of() : m.values();
    }

    void touch(String backend, String modelKey, String runnerOptions, long now) {
        Map<String, Instance> m = instances.get(backend);
        if (m == null) {
            m = instances.computeIfAbsent(backend, b -> new ConcurrentHashMap<>());
        }
        Instance inst = m.get(modelKey);
        if (inst != null && inst.runnerOptions.equals(runnerOptions)) {
            // Two threads touching at once may store their times in either order; both are "just now".
            inst.lastUsedNanos = now;
        } else {
            m.put(modelKey, new Instance(runnerOptions, now));
        }
    }

    /** The instance of {@code modelKey} last run on {@code backend}, or {@code null}. */
    Instance instance(String backend, String modelKey) {
        Map<String, Instance> m = instances.get(backend);
        return m == null ? null : m.get(modelKey);
    }

    /** Whether any job of {@code modelKey} is running on {@code backend}. */
    boolean runs(String backend, String modelKey) {
        for (RunningJob j : running(backend)) {
            if (j.modelKey().equals(modelKey)) {
                return true;
            }
        }
        return false;
    }
}
