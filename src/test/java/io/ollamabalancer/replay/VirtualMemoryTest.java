package io.ollamabalancer.replay;

import io.ollamabalancer.backend.ResidentModel;
import io.ollamabalancer.sim.SimModel;
import io.ollamabalancer.sim.SimulatorConfig;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;

import static org.assertj.core.api.Assertions.assertThat;

/** The simulation's model memory follows the simulator's (and Ollama's) rules, in virtual time. */
class VirtualMemoryTest {
    private static final long MS = 1_000_000L;

    /** A tiny event loop in virtual time. */
    private static final class Loop implements VirtualMemory.Clock {
        private record Event(long at, long seq, Runnable action) {
        }

        private final PriorityQueue<Event> events = new PriorityQueue<>((a, b) -> a.at != b.at
                ? Long.compare(a.at, b.at) : Long.compare(a.seq, b.seq));
        private long now;
        private long seq;

        @Override
        public long now() {
            return now;
        }

        @Override
        public void at(long nanos, Runnable action) {
            events.add(new Event(nanos, seq++, action));
        }

        void runUntil(long nanos) {
            while (!events.isEmpty() && events.peek().at <= nanos) {
                Event e = events.poll();
                now = e.at;
                e.action.run();
            }
            now = Math.max(now, nanos);
        }
    }

    private static SimulatorConfig sim(int maxLoaded, long vram) {
        return SimulatorConfig.builder().name("s").loadTimeMillis(1000).keepAliveMillis(-1)
                .maxLoadedModels(maxLoaded).vramBytes(vram)
                .models(List.of(SimModel.completion("a", 4_000, "llama", "1B", "Q4", false),
                        SimModel.completion("b", 4_000, "llama", "1B", "Q4", false),
                        SimModel.completion("c", 2_000, "llama", "1B", "Q4", false)))
                .build();
    }

    private static List<String> keys(VirtualMemory m) {
        List<String> out = new ArrayList<>();
        for (ResidentModel r : m.resident()) {
            out.add(r.key());
        }
        return out;
    }

    @Test
    void aSecondModelEvictsTheFirstWhenOneFits() {
        Loop loop = new Loop();
        VirtualMemory m = new VirtualMemory(sim(1, 0), loop, () -> { });
        long[] readyA = {-1};
        assertThat(m.acquire("a:latest", t -> readyA[0] = t)).isTrue();
        loop.runUntil(1000 * MS);
        assertThat(readyA[0]).isEqualTo(1000 * MS);
        m.release("a:latest");
        long[] readyB = {-1};
        m.acquire("b:latest", t -> readyB[0] = t);
        loop.runUntil(3000 * MS);
        assertThat(readyB[0]).isEqualTo(2000 * MS);
        assertThat(keys(m)).containsExactly("b:latest");
        assertThat(m.loads()).isEqualTo(2);
        assertThat(m.evictions()).isEqualTo(1);
    }

    @Test
    void aBusyVictimIsWaitedForAndItsNewRequestsLoadItAgainAfterwards() {
        Loop loop = new Loop();
        VirtualMemory m = new VirtualMemory(sim(1, 0), loop, () -> { });
        m.acquire("a:latest", t -> { });
        loop.runUntil(1000 * MS);
        long[] readyB = {-1};
        m.acquire("b:latest", t -> readyB[0] = t);
        // A is busy: B waits; a new request for A now waits for A's eviction and B's load, then reloads A.
        long[] readyA2 = {-1};
        m.acquire("a:latest", t -> readyA2[0] = t);
        loop.runUntil(1500 * MS);
        assertThat(readyB[0]).isEqualTo(-1);
        m.release("a:latest"); // the first request for A ends at 1.5 s: A goes, B loads
        loop.runUntil(2600 * MS);
        assertThat(readyB[0]).isEqualTo(2500 * MS);
        m.release("b:latest");
        loop.runUntil(5000 * MS);
        assertThat(readyA2[0]).isEqualTo(3600 * MS); // B went idle at 2.6 s: evicted then, A loaded by 3.6 s
        assertThat(m.evictions()).isEqualTo(2);
    }

    @Test
    void aByteBudgetHoldsTwoSmallOrOneLargeWithASmall() {
        Loop loop = new Loop();
        VirtualMemory m = new VirtualMemory(sim(0, 6_000), loop, () -> { });
        m.acquire("a:latest", t -> { });
        m.acquire("c:latest", t -> { });
        loop.runUntil(5000 * MS);
        assertThat(keys(m)).containsExactlyInAnyOrder("a:latest", "c:latest");
        m.release("a:latest");
        m.release("c:latest");
        loop.runUntil(6000 * MS);
        // b (4 KB) does not fit beside a (4 KB) + c (2 KB): the least recently used goes first, then enough.
        m.acquire("b:latest", t -> { });
        loop.runUntil(9000 * MS);
        assertThat(keys(m)).contains("b:latest").hasSize(2);
        assertThat(m.evictions()).isEqualTo(1);
    }
}
