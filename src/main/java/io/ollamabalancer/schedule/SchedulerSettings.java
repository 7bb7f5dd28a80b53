package io.ollamabalancer.schedule;

import static java.util.Collections.unmodifiableMap;

import io.ollamabalancer.config.BalancerConfig;

import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/**
 * How the scheduler queues and places requests. Immutable; change a copy with the {@code with…} methods.
 *
 * @param order          ordering within a priority: {@link QueueOrder#SJF} (default) or {@link QueueOrder#FIFO}
 * @param aging          SJF aging factor: a job waits behind later arrivals for at most this many times its own
 *                       expected service time
 * @param limits         queue limits of every model without an override
 * @param modelLimits    per-model overrides, by normalised model key
 * @param lookahead      how many waiting requests (of every model, in queue order) the {@code eft} policy plans at
 *                       once (it may start a later one on a backend the earlier ones are not waiting for); the head
 *                       of each other model's queue is planned after them
 * @param affinityMargin a chat whose prefix a backend served recently goes there if its predicted finish is
 *                       within this fraction of the best (0.25: up to 25 % later)
 * @param affinityTtl    how long a served prefix is assumed to stay in that backend's prompt cache
 * @param warmWindow     a model used on a backend this recently counts as loaded there, whatever the last
 *                       {@code /api/ps} said (the poller lags)
 * @param sweepInterval  how often waiting requests are checked for expiry and re-planned
 * @param fairShare      within a priority, serve API keys in proportion to their weights in expected work
 *                       ({@link FairQueuing}); off: by the order alone, whoever sent them
 */
public record SchedulerSettings(
        QueueOrder order,
        double aging,
        QueueLimits limits,
        Map<String, QueueLimits> modelLimits,
        int lookahead,
        double affinityMargin,
        Duration affinityTtl,
        Duration warmWindow,
        Duration sweepInterval,
        boolean fairShare) {

    public SchedulerSettings {
        modelLimits = modelLimits == null ? Map.of() : unmodifiableMap(new TreeMap<>(modelLimits));
        if (lookahead < 1) {
            throw new IllegalArgumentException("lookahead must be at least 1");
        }
    }

    /** The built-in settings; fair share off, as without API keys ({@link #from} turns it on with them). */
    public static SchedulerSettings defaults() {
        return new SchedulerSettings(QueueOrder.SJF, 6.0, new QueueLimits(10_000, Duration.ofMinutes(10).toNanos()),
                Map.of(), 16, 0.25, Duration.ofMinutes(5), Duration.ofSeconds(30), Duration.ofMillis(100), false);
    }

    /**
     * The defaults with the queue limits of a balancer configuration. Fair share runs only with API keys: without
     * them every request is in the one default flow, there is nobody to share between, and its tags would only
     * replace the queue's own order (on the memory-limited swap fleet over real sockets that cost 24x the mean
     * latency: same-model batches broke up and models were loaded 39 times instead of 10).
     */
    public static SchedulerSettings from(BalancerConfig config) {
        return defaults().withLimits(new QueueLimits(config.maxQueueDepth(), config.maxQueueWait().toNanos()))
                .withFairShare(config.fairShare() && config.apiKeysFile() != null);
    }

    /** The limits of {@code modelKey}'s queue. */
    public QueueLimits limitsFor(String modelKey) {
        QueueLimits l = modelLimits.get(modelKey);
        return l == null ? limits : l;
    }

    public SchedulerSettings withOrder(QueueOrder o, double agingFactor) {
        return new SchedulerSettings(o, agingFactor, limits, modelLimits, lookahead, affinityMargin, affinityTtl,
                warmWindow, sweepInterval, fairShare);
    }

    public SchedulerSettings withLimits(QueueLimits l) {
        return new SchedulerSettings(order, aging, l, modelLimits, lookahead, affinityMargin, affinityTtl,
                warmWindow, sweepInterval, fairShare);
    }

    public SchedulerSettings withModelLimits(Map<String, QueueLimits> perModel) {
        return new SchedulerSettings(order, aging, limits, perModel, lookahead, affinityMargin, affinityTtl,
                warmWindow, sweepInterval, fairShare);
    }

    public SchedulerSettings withLookahead(int n) {
        return new SchedulerSettings(order, aging, limits, modelLimits, n, affinityMargin, affinityTtl,
                warmWindow, sweepInterval, fairShare);
    }

    public SchedulerSettings withAffinity(double margin, Duration ttl) {
        return new SchedulerSettings(order, aging, limits, modelLimits, lookahead, margin, ttl, warmWindow,
                sweepInterval, fairShare);
    }

    /** The same settings with fair share between API keys on or off. */
    public SchedulerSettings withFairShare(boolean on) {
        return new SchedulerSettings(order, aging, limits, modelLimits, lookahead, affinityMargin, affinityTtl,
                warmWindow, sweepInterval, on);
    }
}
