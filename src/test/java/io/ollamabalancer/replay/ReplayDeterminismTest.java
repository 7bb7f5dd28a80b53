package io.ollamabalancer.replay;

import io.ollamabalancer.cli.FleetFile;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The discrete-event replay repeats itself: one trace replayed again in the same JVM gives the same outcomes,
 * request by request. Each replay starts after a different number of identity hash codes were drawn, so requests
 * and backends hash differently every time (as they do from one JVM to the next): an iteration order that follows
 * identity hashes shows up as a different outcome. The scheduler reading the wall clock would too.
 */
class ReplayDeterminismTest {
    @Test
    void theSameTraceGivesTheSameOutcomesWhateverTheIdentityHashes() {
        // The bench's swap-zipf fleet at 80 % of its no-swap capacity: evictions, preloads and plans all matter.
        Path file = Path.of("bench/fleets/swap-zipf.json");
        SimFleet fleet = new SimFleet("swap-zipf", FleetFile.load(file, file.toString()));
        TraceShape shape = TraceShape.of(400, ModelMix.normalised(ModelMix.parse("zipf", fleet)));
        Trace trace = ReplayFixtures.trace(fleet, 42, shape, 0.8);

        VirtualReplay.Result first = VirtualReplay.runDetailed(fleet, trace, "eft");
        List<Integer> draws = List.of(1, 37, 5003);
        List<VirtualReplay.Result> again = new ArrayList<>();
        for (int n : draws) {
            drawIdentityHashes(n);
            again.add(VirtualReplay.runDetailed(fleet, trace, "eft"));
        }

        assertThat(first.loads()).as("the replay loads models").isPositive();
        for (VirtualReplay.Result r : again) {
            assertThat(r.outcomes()).containsExactlyElementsOf(first.outcomes());
            assertThat(r.loads()).isEqualTo(first.loads());
            assertThat(r.evictions()).isEqualTo(first.evictions());
        }
    }

    /** Moves this thread's identity hash sequence on by {@code n} codes (HotSpot draws them per thread). */
    private static long drawIdentityHashes(int n) {
        long sum = 0;
        for (int i = 0; i < n; i++) {
            sum += System.identityHashCode(new Object());
        }
        return sum;
    }
}
