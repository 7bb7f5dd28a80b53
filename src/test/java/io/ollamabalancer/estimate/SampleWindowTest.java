package io.ollamabalancer.estimate;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link SampleWindow}: the window's contents, and adds from several threads at once (no lock). */
class SampleWindowTest {
    @Test
    void keepsTheLastCapacityValuesAndCountsThemAll() {
        SampleWindow w = new SampleWindow(4);
        assertThat(w.sorted()).isEmpty();
        for (int i = 1; i <= 6; i++) {
            w.add(i);
        }
        w.add(Double.NaN);
        assertThat(w.total()).isEqualTo(6);
        assertThat(w.sorted()).containsExactlyInAnyOrder(3, 4, 5, 6);
    }

    @Test
    void concurrentAddsLoseNoCountAndMixNoValues() throws Exception {
        int threads = 4;
        int each = 20_000;
        SampleWindow w = new SampleWindow(1024);
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> all = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            double value = t + 1;
            Thread th = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < each; i++) {
                    w.add(value);
                }
            });
            th.start();
            all.add(th);
        }
        go.countDown();
        for (Thread th : all) {
            th.join();
        }
        assertThat(w.total()).isEqualTo((long) threads * each);
        double[] values = w.sorted();
        assertThat(values).hasSize(1024);
        for (double v : values) {
            assertThat(v).isIn(1.0, 2.0, 3.0, 4.0);
        }
    }
}
