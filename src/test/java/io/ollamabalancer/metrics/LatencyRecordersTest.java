package io.ollamabalancer.metrics;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

import static io.ollamabalancer.metrics.Traffic.ms;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class LatencyRecordersTest {
    private static final long T0 = 1_700_000_000_000L;
    private final AtomicLong clock = new AtomicLong(T0);
    private final LatencyRecorders recorders = new LatencyRecorders(clock::get, 200, 360);

    private static Histogram histogram(LatencySnapshot s, SeriesKey key) {
        LatencySnapshot.Entry e = s.find(key);
        assertThat(e).as("entry %s", key).isNotNull();
        return e.histogram();
    }

    private static final SeriesKey TTFT = SeriesKey.overall(LatencyKind.TTFT);

    @Test
    void recordsKnownValuesWithThreeDigitPrecision() {
        for (int i = 1; i <= 1000; i++) {
            recorders.requestCompleted(Traffic.ok(i, "llama3.2:1b", "b1", i));
        }
        LatencySnapshot s = recorders.snapshotNow();
        Histogram ttft = histogram(s, TTFT);
        assertThat(ttft.getTotalCount()).isEqualTo(1000);
        // Values are microseconds; 3 significant digits keep each within 0.1 %.
        assertThat((double) ttft.getValueAtPercentile(50)).isCloseTo(500_000, within(500.0));
        assertThat((double) ttft.getValueAtPercentile(90)).isCloseTo(900_000, within(900.0));
        assertThat((double) ttft.getValueAtPercentile(99)).isCloseTo(990_000, within(990.0));
        assertThat((double) ttft.getMaxValue()).isCloseTo(1_000_000, within(1000.0));
        assertThat(s.find(TTFT).sumMicros()).isEqualTo(1000L * 1001 / 2 * 1000);

        Histogram total = histogram(s, SeriesKey.overall(LatencyKind.TOTAL));
        assertThat((double) total.getValueAtPercentile(50)).isCloseTo(1_000_000, within(1000.0));
        assertThat(histogram(s, new SeriesKey(LatencyKind.TTFT, SeriesKey.MODEL, "llama3.2:1b")).getTotalCount())
                .isEqualTo(1000);
        assertThat(histogram(s, new SeriesKey(LatencyKind.QUEUE_WAIT, SeriesKey.BACKEND, "b1")).getTotalCount())
                .isEqualTo(1000);
        assertThat(recorders.counters().requests().get("chat", "llama3.2:1b", "b1", "200")).isEqualTo(1000);
        assertThat(recorders.counters().promptTokens().get("llama3.2:1b", "b1")).isEqualTo(5000);
        assertThat(recorders.counters().generatedTokens().get("llama3.2:1b", "b1")).isEqualTo(7000);
    }

    @Test
    void summariesReadTheCumulativeHistogramsInPlaceAsASnapshotWouldAndDoNotEndTheInterval() {
        for (int i = 1; i <= 1000; i++) {
            recorders.requestCompleted(Traffic.ok(i, "llama3.2:1b", "b1", i));
            recorders.tokenGap("llama3.2:1b", "b1", ms(i % 50 + 1));
        }
        double[] q = {0.5, 0.9, 0.99};
        List<LatencySummary> summaries = recorders.summariesNow(q);
        LatencySnapshot s = recorders.snapshotNow();
        assertThat(summaries).extracting(LatencySummary::key)
                .containsExactlyElementsOf(s.entries().stream().map(LatencySnapshot.Entry::key).toList());
        for (LatencySummary m : summaries) {
            Histogram h = histogram(s, m.key());
            assertThat(m.count()).as("%s", m.key()).isEqualTo(h.getTotalCount());
            assertThat(m.sumMicros()).isEqualTo(s.find(m.key()).sumMicros());
            for (int i = 0; i < q.length; i++) {
                if (h.getTotalCount() == 0) {
                    assertThat(m.quantile(i)).isNaN();
                } else {
                    assertThat(m.quantile(i)).isEqualTo((double) h.getValueAtPercentile(q[i] * 100));
                }
            }
        }
        LatencySummary ttft = summaries.stream().filter(m -> m.key().equals(TTFT)).findFirst().orElseThrow();
        assertThat(ttft.quantile(1)).isCloseTo(900_000, within(900.0));
        // What was folded in still belongs to the running interval.
        clock.addAndGet(10_000);
        recorders.rollInterval();
        assertThat(histogram(recorders.lastInterval(), SeriesKey.overall(LatencyKind.TOKEN_GAP)).getTotalCount())
                .isEqualTo(1000);
    }

    @Test
    void stagesThatNeverHappenedAreSkippedAndHugeValuesClamped() {
        recorders.requestCompleted(Traffic.request(1, "generate", "m", "", 503, -1, 0.2, -1, 0.3, 0, 0, Outcome.ERROR));
        recorders.requestCompleted(Traffic.ok(2, "m", "b1", 5 * 3_600_000.0));
        LatencySnapshot s = recorders.snapshotNow();
        assertThat(histogram(s, TTFT).getTotalCount()).isEqualTo(1);
        assertThat(histogram(s, SeriesKey.overall(LatencyKind.OVERHEAD)).getTotalCount()).isEqualTo(2);
        assertThat(histogram(s, SeriesKey.overall(LatencyKind.TOTAL)).getMaxValue())
                .isLessThanOrEqualTo(Math.round(LatencySeries.MAX_MICROS * 1.001));
        // No backend chose: no per-backend series for it, but the request is still counted.
        assertThat(s.entries()).noneMatch(e -> e.key().labelName().equals(SeriesKey.BACKEND)
                && e.key().labelValue().isEmpty());
        assertThat(recorders.counters().requests().get("generate", "m:latest", "", "503")).isEqualTo(1);
    }

    @Test
    void outcomesFeedCancelledAndUpstreamFailureCounters() {
        recorders.requestCompleted(Traffic.request(1, "chat", "m", "b1", 0, 1, 1, -1, 9, 0, 0, Outcome.CANCELLED));
        recorders.requestCompleted(Traffic.request(2, "chat", "m", "b1", 502, 1, 1, -1, 9, 0, 0,
                Outcome.UPSTREAM_FAILED));
        recorders.requestCompleted(Traffic.request(3, "chat", "m", "b2", 502, 1, 1, -1, 9, 0, 0,
                Outcome.UPSTREAM_FAILED));
        assertThat(recorders.counters().cancelled().get("chat", "m:latest")).isEqualTo(1);
        assertThat(recorders.counters().upstreamFailures().get("b1", "m:latest")).isEqualTo(1);
        assertThat(recorders.counters().upstreamFailures().total()).isEqualTo(2);
    }

    @Test
    void aResponsesTokenGapsGoToTheSeriesResolvedForIt() {
        TokenGaps gaps = recorders.tokenGaps("llama3.2:1b", "b1");
        TokenGaps other = recorders.tokenGaps("qwen2.5", "b2");
        for (int i = 1; i <= 4; i++) {
            gaps.record(ms(10 * i));
        }
        other.record(ms(50));
        gaps.record(-1);
        LatencySnapshot s = recorders.snapshotNow();
        assertThat(histogram(s, SeriesKey.overall(LatencyKind.TOKEN_GAP)).getTotalCount()).isEqualTo(5);
        Histogram model = histogram(s, new SeriesKey(LatencyKind.TOKEN_GAP, SeriesKey.MODEL, "llama3.2:1b"));
        assertThat(model.getTotalCount()).isEqualTo(4);
        assertThat((double) model.getMaxValue()).isCloseTo(40_000, within(400.0));
        assertThat(histogram(s, new SeriesKey(LatencyKind.TOKEN_GAP, SeriesKey.BACKEND, "b2")).getTotalCount())
                .isEqualTo(1);
        assertThat(histogram(s, new SeriesKey(LatencyKind.TOKEN_GAP, SeriesKey.MODEL, "qwen2.5:latest"))
                .getTotalCount()).isEqualTo(1);
        // Resolving admits the labels, as a request would: past the bound the rest share "other".
        LatencyRecorders small = new LatencyRecorders(clock::get, 1, 10);
        small.tokenGaps("a", "b").record(ms(1));
        small.tokenGaps("c", "d").record(ms(1));
        assertThat(histogram(small.snapshotNow(), new SeriesKey(LatencyKind.TOKEN_GAP, SeriesKey.MODEL,
                LabelBound.OTHER)).getTotalCount()).isEqualTo(1);
    }

    @Test
    void snapshotNowIsFreshButDoesNotEndTheInterval() {
        for (int i = 0; i < 10; i++) {
            recorders.tokenGap("m", "b1", ms(20));
        }
        clock.addAndGet(10_000);
        recorders.rollInterval();
        for (int i = 0; i < 5; i++) {
            recorders.tokenGap("m", "b1", ms(40));
        }
        SeriesKey gap = SeriesKey.overall(LatencyKind.TOKEN_GAP);

        // Reader A wants fresh cumulative counts; reader B and A then look at the last interval.
        assertThat(histogram(recorders.snapshotNow(), gap).getTotalCount()).isEqualTo(15);
        LatencySnapshot b = recorders.lastInterval();
        LatencySnapshot a = recorders.lastInterval();
        assertThat(histogram(b, gap).getTotalCount()).isEqualTo(10);
        assertThat(b.startMs()).isEqualTo(T0);
        assertThat(b.endMs()).isEqualTo(T0 + 10_000);
        // Each reader owns its copy: clearing one changes nothing for the other or for later readers.
        histogram(a, gap).reset();
        assertThat(histogram(b, gap).getTotalCount()).isEqualTo(10);
        assertThat(histogram(recorders.lastInterval(), gap).getTotalCount()).isEqualTo(10);
        assertThat(histogram(recorders.snapshotNow(), gap).getTotalCount()).isEqualTo(15);

        // The values reader A flushed still belong to the interval that was running.
        clock.addAndGet(10_000);
        recorders.rollInterval();
        Histogram second = histogram(recorders.lastInterval(), gap);
        assertThat(second.getTotalCount()).isEqualTo(5);
        assertThat((double) second.getMinValue()).isCloseTo(40_000, within(40.0));
        assertThat(histogram(recorders.snapshotNow(), gap).getTotalCount()).isEqualTo(15);
    }

    @Test
    void emptyIntervalLeavesNoLastIntervalEntries() {
        assertThat(recorders.lastInterval().entries()).isEmpty();
        recorders.tokenGap("m", "b1", ms(1));
        clock.addAndGet(10_000);
        recorders.rollInterval();
        assertThat(recorders.lastInterval().entries()).isNotEmpty();
        clock.addAndGet(10_000);
        recorders.rollInterval();
        assertThat(recorders.lastInterval().entries()).isEmpty();
        assertThat(recorders.keptIntervals()).isEqualTo(1);
    }

    @Test
    void sinceMergesTheKeptIntervalsEndingAfterIt() {
        int[] perInterval = {3, 5, 7, 11};
        long[] ends = new long[perInterval.length];
        for (int i = 0; i < perInterval.length; i++) {
            for (int j = 0; j < perInterval[i]; j++) {
                recorders.requestCompleted(Traffic.ok(j, "llama3.2:1b", "b1", 100 + i));
            }
            clock.addAndGet(10_000);
            recorders.rollInterval();
            ends[i] = clock.get();
        }
        LatencySnapshot all = recorders.since(0);
        assertThat(histogram(all, TTFT).getTotalCount()).isEqualTo(26);
        assertThat(all.startMs()).isEqualTo(T0);
        assertThat(all.endMs()).isEqualTo(ends[3]);

        LatencySnapshot lastTwo = recorders.since(ends[1]);
        assertThat(histogram(lastTwo, TTFT).getTotalCount()).isEqualTo(18);
        assertThat(histogram(lastTwo, new SeriesKey(LatencyKind.TTFT, SeriesKey.MODEL, "llama3.2:1b"))
                .getTotalCount()).isEqualTo(18);
        assertThat((double) histogram(lastTwo, TTFT).getMinValue()).isCloseTo(102_000, within(102.0));
        assertThat(lastTwo.startMs()).isEqualTo(ends[1]);
        assertThat(recorders.since(ends[3]).entries()).isEmpty();
    }

    @Test
    void keepsOnlyTheLastIntervals() {
        LatencyRecorders small = new LatencyRecorders(clock::get, 10, 3);
        for (int i = 0; i < 5; i++) {
            small.tokenGap("m", "b", ms(1 + i));
            clock.addAndGet(1000);
            small.rollInterval();
        }
        assertThat(small.keptIntervals()).isEqualTo(3);
        Histogram merged = histogram(small.since(0), SeriesKey.overall(LatencyKind.TOKEN_GAP));
        assertThat(merged.getTotalCount()).isEqualTo(3);
        assertThat((double) merged.getMinValue()).isCloseTo(3000, within(3.0));
    }

    @Test
    void labelsAreBoundedAndTheRestFoldIntoOther() {
        LatencyRecorders bounded = new LatencyRecorders(clock::get, 3, 10);
        for (int i = 0; i < 10; i++) {
            bounded.requestCompleted(Traffic.ok(i, "model-" + i, "backend-" + i, 10));
        }
        // Different spellings of an admitted model are one label.
        bounded.requestCompleted(Traffic.ok(99, "MODEL-0", "backend-0", 10));
        bounded.requestCompleted(Traffic.ok(98, "library/model-0:latest", "backend-0", 10));
        assertThat(bounded.modelLabels()).isEqualTo(3);
        assertThat(bounded.backendLabels()).isEqualTo(3);

        LatencySnapshot s = bounded.snapshotNow();
        List<String> modelLabels = new ArrayList<>();
        for (LatencySnapshot.Entry e : s.entries()) {
            if (e.key().kind() == LatencyKind.TTFT && e.key().labelName().equals(SeriesKey.MODEL)) {
                modelLabels.add(e.key().labelValue());
            }
        }
        assertThat(modelLabels).containsExactly("model-0:latest", "model-1:latest", "model-2:latest", "other");
        assertThat(histogram(s, new SeriesKey(LatencyKind.TTFT, SeriesKey.MODEL, "other")).getTotalCount())
                .isEqualTo(7);
        assertThat(histogram(s, new SeriesKey(LatencyKind.TTFT, SeriesKey.MODEL, "model-0:latest"))
                .getTotalCount()).isEqualTo(3);
        assertThat(histogram(s, new SeriesKey(LatencyKind.TTFT, SeriesKey.BACKEND, "other")).getTotalCount())
                .isEqualTo(7);
        assertThat(bounded.counters().requests().get("chat", "other", "other", "200")).isEqualTo(7);
    }

    @Test
    void rejectedRequestsDoNotTakeLabelPlaces() {
        LatencyRecorders bounded = new LatencyRecorders(clock::get, 2, 10);
        bounded.requestCompleted(Traffic.ok(1, "llama3.2:1b", "b1", 10));
        for (int i = 0; i < 5; i++) {
            bounded.requestCompleted(Traffic.request(i, "chat", "made-up-" + i, "", 404, -1, 0.1, -1, 0.2, 0, 0,
                    Outcome.ERROR));
        }
        bounded.requestCompleted(Traffic.request(9, "chat", "LLAMA3.2:1b", "", 400, -1, 0.1, -1, 0.2, 0, 0,
                Outcome.ERROR));
        bounded.requestCompleted(Traffic.ok(2, "qwen2:0.5b", "b1", 10));
        assertThat(bounded.modelLabels()).isEqualTo(2);
        assertThat(bounded.counters().requests().get("chat", "other", "", "404")).isEqualTo(5);
        assertThat(bounded.counters().requests().get("chat", "llama3.2:1b", "", "400")).isEqualTo(1);
        assertThat(bounded.counters().requests().get("chat", "qwen2:0.5b", "b1", "200")).isEqualTo(1);
    }

    @Test
    void concurrentWritersLoseNothing() throws Exception {
        int threads = 4;
        int each = 20_000;
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            String backend = "b" + (t % 2);
            Thread w = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                for (int i = 0; i < each; i++) {
                    recorders.tokenGap("m", backend, ms(1 + (i % 50)));
                }
            });
            w.start();
            workers.add(w);
        }
        start.countDown();
        // Rolls and snapshots race the writers; nothing may be lost or counted twice.
        for (int i = 0; i < 20; i++) {
            clock.addAndGet(100);
            recorders.rollInterval();
            recorders.snapshotNow();
        }
        for (Thread w : workers) {
            w.join();
        }
        clock.addAndGet(100);
        recorders.rollInterval();
        LatencySnapshot s = recorders.snapshotNow();
        assertThat(histogram(s, SeriesKey.overall(LatencyKind.TOKEN_GAP)).getTotalCount())
                .isEqualTo((long) threads * each);
        assertThat(histogram(s, new SeriesKey(LatencyKind.TOKEN_GAP, SeriesKey.BACKEND, "b0")).getTotalCount())
                .isEqualTo((long) threads / 2 * each);
        assertThat(histogram(recorders.since(0), SeriesKey.overall(LatencyKind.TOKEN_GAP)).getTotalCount())
                .isEqualTo((long) threads * each);
    }

    /**
     * Regression: per-label recorders once resized under concurrent writers and livelocked two event loops. Every
     * recorder now has a fixed range; event-loop-like writers spreading values over six orders of magnitude while a
     * reader rolls must all finish.
     */
    @Test
    void concurrentWritersWithWideValuesAndRollsNeverStall() {
        LatencyRecorders r = new LatencyRecorders();
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(30), () -> {
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
            java.util.List<java.util.concurrent.Future<?>> writers = new java.util.ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int seed = t;
                writers.add(pool.submit(() -> {
                    java.util.Random rnd = new java.util.Random(seed);
                    for (int i = 0; i < 200_000; i++) {
                        long nanos = (long) Math.pow(10, 3 + rnd.nextDouble() * 7);
                        r.tokenGap("m" + (i % 7), "b" + (i % 5), nanos);
                        if (i % 1000 == 0) {
                            r.requestCompleted(Traffic.ok(i, "m" + (i % 7), "b" + (i % 5), nanos / 1e6));
                        }
                    }
                }));
            }
            for (int i = 0; i < 50; i++) {
                r.rollInterval();
                r.snapshotNow();
            }
            for (java.util.concurrent.Future<?> w : writers) {
                w.get();
            }
            pool.shutdown();
        });
    }
}
