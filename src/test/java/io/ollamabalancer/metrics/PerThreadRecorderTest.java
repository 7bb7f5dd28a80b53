package io.ollamabalancer.metrics;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class PerThreadRecorderTest {
    private static final long HIGHEST = 3_600_000_000L;

    @Test
    void valuesFromEveryThreadAreDrainedOnceAndSummedExactly() throws Exception {
        PerThreadRecorder r = new PerThreadRecorder(HIGHEST, 2);
        Thread a = new Thread(() -> {
            for (int i = 0; i < 1000; i++) {
                r.record(10);
            }
        });
        Thread b = new Thread(() -> {
            for (int i = 0; i < 500; i++) {
                r.record(1000);
            }
        });
        a.start();
        b.start();
        a.join();
        b.join();
        r.record(7);

        Histogram pending = new Histogram(1, HIGHEST, 2);
        Histogram cumulative = new Histogram(1, HIGHEST, 2);
        r.drainInto(pending, cumulative);

        assertThat(pending.getTotalCount()).isEqualTo(1501);
        assertThat(cumulative.getTotalCount()).isEqualTo(1501);
        assertThat(pending.getCountAtValue(1000)).isEqualTo(500);
        assertThat(r.sum()).isEqualTo(1000 * 10 + 500 * 1000 + 7);

        Histogram again = new Histogram(1, HIGHEST, 2);
        r.drainInto(again);
        assertThat(again.getTotalCount()).as("nothing is drained twice").isZero();
        assertThat(r.sum()).as("the ended threads' sums stay").isEqualTo(1000 * 10 + 500 * 1000 + 7);

        r.record(3);
        r.drainInto(again);
        assertThat(again.getTotalCount()).as("a live thread keeps recording after a drain").isEqualTo(1);
    }
}
