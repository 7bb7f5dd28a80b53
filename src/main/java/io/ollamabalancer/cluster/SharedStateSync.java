package io.ollamabalancer.cluster;

import io.ollamabalancer.estimate.LearnedState;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The periodic exchange of what is not slots: learned statistics ({@link SharedStats}, published every tick and
 * read every {@value #LOAD_EVERY} ticks) and backend health ({@link SharedHealth}, polled and pushed). On a rejoin
 * it re-sends everything, since Redis may have lost it.
 *
 * <p>Threading: {@link #ejected}/{@link #recovered} from any thread (they record and hop); everything else on the
 * cluster thread.
 */
final class SharedStateSync {
    static final int LOAD_EVERY = 5;

    private final SharedStats stats;
    private final SharedHealth health;
    private final LearnedState learned;
    private final HealthListener listener;
    private final LocalView view;
    private final RedisAccess access;
    private final ClusterThread thread;
    private int ticks;

    SharedStateSync(SharedStats stats, SharedHealth health, LearnedState learned, HealthListener listener,
                    LocalView view, RedisAccess access, ClusterThread thread) {
        this.stats = stats;
        this.health = health;
        this.learned = learned;
        this.listener = listener;
        this.view = view;
        this.access = access;
        this.thread = thread;
    }

    /** Joined (again): re-send all; the stage completes once the others' statistics were absorbed (or failed). */
    CompletionStage<Void> rejoined() {
        health.rejoined();
        stats.forgetPublished();
        CompletionStage<Void> warm = load();
        publish();
        republishEjections();
        pollHealth();
        return warm;
    }

    /** The lease had run out: Redis may have lost what this replica wrote. */
    void leaseLost() {
        stats.forgetPublished();
        republishEjections();
    }

    void statsTick() {
        publish();
        if (++ticks % LOAD_EVERY == 0) {
            load();
        }
    }

    void pollHealth() {
        RedisClusterAsyncCommands<String, String> redis = access.joinedOrNull();
        if (redis != null) {
            report(health.poll(redis, view.slotLimits().keySet(), listener), "health poll");
        }
    }

    /** An event from the channel about a backend's health. */
    void healthEvent(String kind, String backend) {
        if (kind.equals("up")) {
            listener.recoveredElsewhere(backend);
        }
        pollHealth();
    }

    void ejected(String backend, Duration duration, String reason) {
        health.ejected(backend, duration, reason);
        thread.execute(() -> send(backend, true));
    }

    void recovered(String backend) {
        health.recovered(backend);
        thread.execute(() -> send(backend, false));
    }

    private void publish() {
        RedisClusterAsyncCommands<String, String> redis = access.joinedOrNull();
        if (redis != null) {
            report(stats.publishChanges(redis, learned.ownObservations()), "statistics publication");
        }
    }

    private CompletionStage<Void> load() {
        RedisClusterAsyncCommands<String, String> redis = access.joinedOrNull();
        if (redis == null) {
            return CompletableFuture.completedFuture(null);
        }
        return stats.loadOthers(redis).handleAsync((others, e) -> {
            if (e != null) {
                access.failed("statistics load", e);
            } else {
                learned.absorb(others);
            }
            return null;
        }, thread);
    }

    private void republishEjections() {
        for (String backend : health.ownEjections()) {
            send(backend, true);
        }
    }

    private void send(String backend, boolean ejected) {
        RedisClusterAsyncCommands<String, String> redis = access.joinedOrNull();
        if (redis != null) {
            report(ejected ? health.sendEjection(redis, backend) : health.sendRecovery(redis, backend),
                    "health update");
        }
    }

    private void report(CompletionStage<?> call, String what) {
        call.whenCompleteAsync((r, e) -> {
            if (e != null) {
                access.failed(what, e);
            }
        }, thread);
    }
}
