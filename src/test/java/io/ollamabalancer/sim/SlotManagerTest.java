package io.ollamabalancer.sim;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class SlotManagerTest {
    private final SimCounters counters = new SimCounters();
    private final List<String> granted = new ArrayList<>();

    private SlotManager.Waiter waiter(String name) {
        return () -> granted.add(name);
    }

    @Test
    void grantsUpToSlotsThenQueuesFifoThenRejects() {
        SlotManager slots = new SlotManager(2, 2, counters, Runnable::run);
        assertThat(slots.acquire(waiter("a"))).isEqualTo(SlotManager.Admission.GRANTED);
        assertThat(slots.acquire(waiter("b"))).isEqualTo(SlotManager.Admission.GRANTED);
        assertThat(slots.acquire(waiter("c"))).isEqualTo(SlotManager.Admission.QUEUED);
        assertThat(slots.acquire(waiter("d"))).isEqualTo(SlotManager.Admission.QUEUED);
        assertThat(slots.acquire(waiter("e"))).isEqualTo(SlotManager.Admission.REJECTED);
        assertThat(counters.waiting()).isEqualTo(2);
        assertThat(counters.activeGenerations()).isEqualTo(2);

        slots.release();
        slots.release();
        assertThat(granted).containsExactly("c", "d");
        assertThat(counters.waiting()).isZero();
        assertThat(counters.peakConcurrentGenerations()).isEqualTo(2);
    }

    @Test
    void abandonedWaitersLeaveTheQueue() {
        SlotManager slots = new SlotManager(1, 5, counters, Runnable::run);
        slots.acquire(waiter("a"));
        SlotManager.Waiter b = waiter("b");
        slots.acquire(b);
        slots.acquire(waiter("c"));
        assertThat(slots.abandon(b)).isTrue();
        assertThat(slots.abandon(b)).isFalse();
        slots.release();
        assertThat(granted).containsExactly("c");
        assertThat(slots.active()).isEqualTo(1);
    }

    @Test
    void aNewcomerDoesNotOvertakeWaiters() {
        SlotManager slots = new SlotManager(1, 5, counters, task -> { });
        slots.acquire(waiter("a"));
        slots.acquire(waiter("b"));
        slots.release();
        // The slot went to b (its grant task is pending), so c must wait.
        assertThat(slots.acquire(waiter("c"))).isEqualTo(SlotManager.Admission.QUEUED);
    }

    @Test
    void modelNamesNormaliseForLookupOnly() {
        assertThat(ModelCatalog.normalize("LLama3.2")).isEqualTo("llama3.2:latest");
        assertThat(ModelCatalog.normalize("registry.ollama.ai/library/llama3.2:1B")).isEqualTo("llama3.2:1b");
        assertThat(ModelCatalog.normalize("me/model")).isEqualTo("me/model:latest");
        assertThat(ModelCatalog.displayName("all-minilm")).isEqualTo("all-minilm:latest");
        assertThat(ModelJson.namespace("me/model:latest")).isEqualTo("me");
        assertThat(ModelJson.namespace("llama3.2:1b")).isEqualTo("library");
    }
}
