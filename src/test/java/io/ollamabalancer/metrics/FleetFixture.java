package io.ollamabalancer.metrics;

import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.backend.Health;
import io.ollamabalancer.backend.ResidentModel;
import io.ollamabalancer.config.BackendConfig;
import io.ollamabalancer.request.InferenceRequest;
import io.ollamabalancer.schedule.DispatchTarget;
import io.ollamabalancer.schedule.LeastConnectionsPolicy;
import io.ollamabalancer.schedule.PendingRequest;
import io.ollamabalancer.schedule.Scheduler;

import java.net.URI;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A small real fleet and scheduler: {@code b1} (2 slots, llama3.2:1b and qwen2:0.5b), and a down backend whose
 * name needs escaping (configured to hold 3 models in 8 GB). Nothing is dispatched anywhere: targets only record.
 * Shared with the dashboard's tests, which read the same state.
 */
public final class FleetFixture implements AutoCloseable {
    public static final String ODD = "b2 \"east\"\\2\nx";

    public final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    public final Fleet fleet = new Fleet(List.of(
            new BackendConfig("b1", URI.create("http://127.0.0.1:11434"), 2,
                    List.of("llama3.2:1b", "qwen2:0.5b"), true),
            new BackendConfig(ODD, URI.create("http://127.0.0.1:11435/ollama"), 4, List.of("llama3.2:1b"),
                    true, 3, 8L << 30)));
    public final Scheduler scheduler = new Scheduler(fleet, new LeastConnectionsPolicy(), 100, Long.MAX_VALUE / 4,
            nanos::get, false);
    private long ids;

    public FleetFixture() {
        Backend odd = fleet.byName(ODD);
        odd.health(Health.DOWN);
        odd.lastError("connection refused");
        Backend b1 = fleet.byName("b1");
        b1.health(Health.UP);
        b1.version("0.12.6");
        b1.updateLoaded(java.util.Set.of("llama3.2:1b"));
    }

    /** Teaches b1 that it holds one model: llama3.2:1b (1 GB) is evicted early by qwen2:0.5b (0.5 GB). */
    void evictOnB1() {
        long gb = 1L << 30;
        b1().memory().observe(List.of(new ResidentModel("llama3.2:1b", gb, 300_000)), 0);
        b1().memory().observe(List.of(new ResidentModel("qwen2:0.5b", gb / 2, 301_000)), 1_000);
    }

    Backend b1() {
        return fleet.byName("b1");
    }

    /** Submits a request for {@code model} at {@code priority}, at the fixture's current time. */
    public PendingRequest submit(String model, int priority) {
        InferenceRequest req = new InferenceRequest(model, true, -1, null, "hi", 1, 0, "", false, 0);
        PendingRequest p = new PendingRequest(++ids, req, model, priority, nanos.get(), new DispatchTarget() {
            @Override
            public void dispatch(Backend backend) {
            }

            @Override
            public void reject(int status, String message, long retryAfterSeconds) {
                throw new AssertionError("rejected: " + status + " " + message);
            }
        });
        scheduler.submit(p);
        return p;
    }

    @Override
    public void close() {
        scheduler.close();
    }
}
