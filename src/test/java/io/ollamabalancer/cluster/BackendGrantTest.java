package io.ollamabalancer.cluster;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class BackendGrantTest {

    @Test
    void aloneTheGrantIsTheFallbackShare() {
        BackendGrant g = new BackendGrant("gpu", 3);
        assertThat(g.granted()).isEqualTo(3);
        g.held = 1;
        g.target = 1;
        assertThat(g.granted()).as("Redis's numbers do not count until shared").isEqualTo(3);
    }

    @Test
    void sharedTheGrantIsTheLowerOfHeldAndTargetLessYieldsAndYieldsUnderway() {
        BackendGrant g = new BackendGrant("gpu", 3);
        g.held = 4;
        g.target = 2;
        g.shared = true;
        assertThat(g.granted()).as("releasing: the target counts at once").isEqualTo(2);
        g.target = 6;
        assertThat(g.granted()).as("acquiring: only what Redis confirmed").isEqualTo(4);
        g.yielded.set(1);
        assertThat(g.granted()).isEqualTo(3);
        g.releasing.set(1);
        assertThat(g.granted()).as("a slot being yielded counts before its release").isEqualTo(2);
        g.yielded.set(9);
        assertThat(g.granted()).isZero();
    }

    @Test
    void goingAloneForgetsEverythingRedisSaid() {
        BackendGrant g = new BackendGrant("gpu", 3);
        g.shared = true;
        g.held = 4;
        g.target = 4;
        g.yielded.set(1);
        g.yieldBudget.set(5);
        g.remoteWaiting = 7;
        g.inFlight = true;
        g.alone(4);
        g.fallback = 2;
        assertThat(g.granted()).isEqualTo(2);
        assertThat(g.aloneCap).isEqualTo(4);
        assertThat(g.shared).isFalse();
        assertThat(g.yielded.get()).isZero();
        assertThat(g.yieldBudget.get()).isZero();
        assertThat(g.remoteWaiting).isZero();
        assertThat(g.inFlight).isFalse();
    }
}
