package io.ollamabalancer.cluster;

import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.backend.Health;
import io.ollamabalancer.config.BackendConfig;
import io.ollamabalancer.schedule.DispatchTarget;
import io.ollamabalancer.schedule.ModelQueue;
import io.ollamabalancer.schedule.PendingRequest;
import io.ollamabalancer.request.InferenceRequest;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class FleetLocalViewTest {
    private static final DispatchTarget NOWHERE = new DispatchTarget() {
        @Override
        public void dispatch(io.ollamabalancer.backend.Backend backend) {
        }

        @Override
        public void reject(int status, String message, long retryAfterSeconds) {
        }
    };

    private final Fleet fleet = new Fleet(List.of(
            new BackendConfig("big", URI.create("http://big:11434"), 4, List.of("llama3:8b", "qwen2:7b"), true),
            new BackendConfig("small", URI.create("http://small:11434"), 2, List.of("qwen2:7b"), true),
            new BackendConfig("off", URI.create("http://off:11434"), 3, List.of("llama3:8b"), false)));
    private final Map<String, ModelQueue> queues = new ConcurrentHashMap<>();
    private final AtomicInteger drains = new AtomicInteger();
    private final FleetLocalView view = new FleetLocalView(fleet, () -> queues, drains::incrementAndGet);
    private long ids;

    private void enqueue(String model, int priority, long orderNanos) {
        PendingRequest r = new PendingRequest(++ids, new InferenceRequest(model, true, 0, null, "hi", 1, 0, null,
                false, 0), model, priority, orderNanos, NOWHERE);
        queues.computeIfAbsent(model, ModelQueue::new).offer(r, orderNanos);
    }

    @Test
    void demandCountsEveryQueueTheBackendCanServeAndRanksItsBestHead() {
        long t = System.nanoTime();
        enqueue("llama3:8b", 0, t);
        enqueue("llama3:8b", 0, t + 5_000_000);
        enqueue("qwen2:7b", 10, t + 9_000_000);
        enqueue("mistral", 50, t);

        LocalView.Demand big = view.demand("big");
        assertThat(big.waiting()).isEqualTo(3);
        assertThat(big.bestScore()).isEqualTo(QueueScore.of(10, WallClock.SYSTEM.epochMillis(t + 9_000_000)));
        LocalView.Demand small = view.demand("small");
        assertThat(small.waiting()).isEqualTo(1);
        assertThat(view.demand("nonexistent")).isEqualTo(LocalView.Demand.NONE);
    }

    @Test
    void unavailableBackendsHaveNoDemandAndDisabledOnesNoSlots() {
        enqueue("llama3:8b", 0, System.nanoTime());
        assertThat(view.slotLimits()).containsExactlyInAnyOrderEntriesOf(Map.of("big", 4, "small", 2, "off", 0));
        assertThat(view.demand("off")).isEqualTo(LocalView.Demand.NONE);
        fleet.byName("big").health(Health.DOWN);
        assertThat(view.demand("big")).isEqualTo(LocalView.Demand.NONE);
        fleet.byName("big").health(Health.UNKNOWN); // a reset: an ejection's backoff is not cut short by a poll
        assertThat(view.demand("big").waiting()).isEqualTo(1);
    }

    @Test
    void inUseModelsAndDrainComeFromTheFleetAndScheduler() {
        fleet.byName("small").tryAcquireSlot();
        assertThat(view.inUse("small")).isEqualTo(1);
        assertThat(view.inUse("nonexistent")).isZero();
        assertThat(view.models("big")).containsExactlyInAnyOrder("llama3:8b", "qwen2:7b");
        view.capacityGained();
        assertThat(drains.get()).isEqualTo(1);
    }
}
