package io.ollamabalancer.auth;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class TokenBucketTest {
    // Far from zero and negative, so arithmetic that assumes a positive clock would show.
    private final AtomicLong now = new AtomicLong(-7_000_000_000_000L);

    private void advanceMillis(long ms) {
        now.addAndGet(ms * 1_000_000L);
    }

    @Test
    void startsFullThenRefusesWithTheWaitUntilOneTokenRefills() {
        TokenBucket b = new TokenBucket(60, now::get); // one a second
        for (int i = 0; i < 60; i++) {
            assertThat(b.take(1)).as("take %d", i).isZero();
        }
        long wait = b.take(1);
        assertThat(wait).isEqualTo(1_000_000_000L);
        advanceMillis(500);
        assertThat(b.take(1)).isEqualTo(500_000_000L);
        advanceMillis(500);
        assertThat(b.take(1)).isZero();
    }

    @Test
    void refillsNoFurtherThanOneBucket() {
        TokenBucket b = new TokenBucket(10, now::get);
        advanceMillis(3_600_000);
        assertThat(b.level()).isEqualTo(10.0);
        assertThat(b.take(10)).isZero();
        assertThat(b.take(1)).isPositive();
    }

    @Test
    void anAskLargerThanTheBucketPassesWhenFullAndLeavesDebt() {
        TokenBucket b = new TokenBucket(1_000, now::get);
        assertThat(b.take(1_500)).isZero();
        assertThat(b.level()).isEqualTo(-500.0);
        // Debt first, then a full bucket again for the next large ask: 1,500 tokens at 1,000 a minute = 90 s.
        assertThat(b.take(5_000)).isEqualTo(90_000_000_000L);
    }

    @Test
    void adjustRefundsAndChargesWithinOneBucketEitherWay() {
        TokenBucket b = new TokenBucket(600, now::get);
        assertThat(b.take(100)).isZero();
        b.adjust(40); // the estimate was 40 too high
        assertThat(b.level()).isEqualTo(540.0);
        b.adjust(-5_000); // a response far longer than its estimate
        assertThat(b.level()).isEqualTo(-600.0);
        b.adjust(10_000);
        assertThat(b.level()).isEqualTo(600.0);
        advanceMillis(1_000);
        assertThat(b.level()).isCloseTo(600.0, within(1e-9));
    }
}
