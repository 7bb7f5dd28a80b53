package io.ollamabalancer.cluster;

import io.ollamabalancer.schedule.ModelQueue;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class QueueScoreTest {

    @Test
    void scoresSortLikeTheLocalQueueKey() {
        Random rnd = new Random(7);
        long now = System.currentTimeMillis();
        List<ModelQueue.QueueKey> keys = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            keys.add(new ModelQueue.QueueKey(rnd.nextInt(201) - 100, now + rnd.nextInt(1_000_000), i));
        }
        List<ModelQueue.QueueKey> byKey = new ArrayList<>(keys);
        byKey.sort(Comparator.naturalOrder());
        List<ModelQueue.QueueKey> byScore = new ArrayList<>(keys);
        // Redis compares scores as doubles: sort the same way.
        byScore.sort(Comparator.<ModelQueue.QueueKey>comparingDouble(k -> (double) QueueScore.of(k.priority(),
                k.order())).thenComparingLong(ModelQueue.QueueKey::seq));
        assertThat(byScore).isEqualTo(byKey);
    }

    @Test
    void aScoreRoundTripsThroughADoubleExactly() {
        long[] orders = {QueueScore.ORDER_BASE_MILLIS, System.currentTimeMillis(), QueueScore.ORDER_BASE_MILLIS
                + (1L << 43) - 1};
        for (int p : new int[] {QueueScore.MIN_PRIORITY, -100, 0, 100, QueueScore.MAX_PRIORITY}) {
            for (long o : orders) {
                long s = QueueScore.of(p, o);
                assertThat((long) (double) s).isEqualTo(s);
                assertThat(QueueScore.priority(s)).isEqualTo(p);
                assertThat(QueueScore.orderEpochMillis(s)).isEqualTo(o);
            }
        }
    }

    @Test
    void outOfRangeValuesAreClampedNotWrapped() {
        long now = System.currentTimeMillis();
        assertThat(QueueScore.of(10_000, now)).isEqualTo(QueueScore.of(QueueScore.MAX_PRIORITY, now));
        assertThat(QueueScore.of(-10_000, now)).isEqualTo(QueueScore.of(QueueScore.MIN_PRIORITY, now));
        assertThat(QueueScore.of(0, 0)).isEqualTo(QueueScore.of(0, QueueScore.ORDER_BASE_MILLIS));
        assertThat(QueueScore.of(QueueScore.MIN_PRIORITY, Long.MAX_VALUE)).isLessThan(QueueScore.NONE);
        assertThat(QueueScore.arg(QueueScore.NONE)).isEqualTo("inf");
    }
}
