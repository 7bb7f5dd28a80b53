package io.ollamabalancer.cluster;

import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;

import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** What the slot broker tests share: a fixed Redis connection as {@link RedisAccess}, and running on its thread. */
final class BrokerTests {
    private BrokerTests() {
    }

    /** Always joined through {@code conn} ({@code null}: never joined); failures are ignored. */
    static RedisAccess access(RedisClusterAsyncCommands<String, String> conn) {
        return new RedisAccess() {
            @Override
            public RedisClusterAsyncCommands<String, String> joinedOrNull() {
                return conn;
            }

            @Override
            public void failed(String what, Throwable error) {
            }
        };
    }

    /** Runs {@code task} on the cluster thread, as the broker's own calls run, and returns its result. */
    static <T> T onThread(ClusterThread thread, Callable<T> task) throws Exception {
        CompletableFuture<T> out = new CompletableFuture<>();
        thread.execute(() -> {
            try {
                out.complete(task.call());
            } catch (Exception e) {
                out.completeExceptionally(e);
            }
        });
        return out.get(10, TimeUnit.SECONDS);
    }

    /** One backend of 2 slots serving one model, nothing waiting here; what runs is whatever the test sets. */
    static final class TwoSlotView implements LocalView {
        final String backend;
        volatile int inUse;

        TwoSlotView(String backend) {
            this.backend = backend;
        }

        @Override
        public Map<String, Integer> slotLimits() {
            return Map.of(backend, 2);
        }

        @Override
        public int inUse(String backend) {
            return inUse;
        }

        @Override
        public Collection<String> models(String backend) {
            return Set.of("m");
        }

        @Override
        public Demand demand(String backend) {
            return Demand.NONE;
        }

        @Override
        public void capacityGained() {
        }
    }
}
