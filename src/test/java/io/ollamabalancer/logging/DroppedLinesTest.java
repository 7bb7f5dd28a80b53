package io.ollamabalancer.logging;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class DroppedLinesTest {
    private final AtomicLong now = new AtomicLong(1_000);
    private final DroppedLines drops = new DroppedLines(now::get, 60);

    @Test
    void reportsNewDropsAtMostOncePerInterval() {
        assertThat(drops.takeReport()).as("nothing dropped, nothing to say").isZero();
        drops.dropped();
        drops.dropped();
        assertThat(drops.takeReport()).as("the first report may come at once").isEqualTo(2);
        drops.dropped();
        now.addAndGet(59);
        assertThat(drops.takeReport()).as("less than an interval later").isZero();
        now.addAndGet(1);
        assertThat(drops.takeReport()).isEqualTo(1);
        now.addAndGet(600);
        assertThat(drops.takeReport()).as("nothing new").isZero();
        assertThat(drops.total()).isEqualTo(3);
    }
}
