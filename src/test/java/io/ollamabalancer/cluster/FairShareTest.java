package io.ollamabalancer.cluster;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class FairShareTest {

    private static List<String> replicas(int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add("r" + i);
        }
        return out;
    }

    @Test
    void sharesAddUpToTheLimitExactly() {
        for (int n = 1; n <= 5; n++) {
            List<String> live = replicas(n);
            for (int limit = 0; limit <= 11; limit++) {
                for (String backend : List.of("a", "gpu-2", "big-box")) {
                    int sum = 0;
                    for (String me : live) {
                        int s = FairShare.of(limit, live, me, backend, 0);
                        assertThat(s).isBetween(limit / n, limit / n + 1);
                        sum += s;
                    }
                    assertThat(sum).as("limit %d over %d replicas", limit, n).isEqualTo(limit);
                }
            }
        }
    }

    @Test
    void leftoverSlotsGoToDifferentReplicasOnDifferentBackends() {
        List<String> live = replicas(3);
        java.util.Set<String> favoured = new java.util.HashSet<>();
        for (int b = 0; b < 20; b++) {
            for (String me : live) {
                if (FairShare.of(1, live, me, "backend-" + b, 0) == 1) {
                    favoured.add(me);
                }
            }
        }
        assertThat(favoured).containsExactlyInAnyOrderElementsOf(live);
    }

    @Test
    void aMinimumReplicaCountShrinksTheShareOfAReplicaThatSawNoOne() {
        assertThat(FairShare.of(8, List.of("me"), "me", "gpu", 0)).isEqualTo(8);
        assertThat(FairShare.of(8, List.of("me"), "me", "gpu", 4)).isEqualTo(2);
    }
}
