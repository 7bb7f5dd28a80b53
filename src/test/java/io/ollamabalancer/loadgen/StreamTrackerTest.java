package io.ollamabalancer.loadgen;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** Times are injected: monotonic nanos start at 1_000_000 and the wall clock is 2026-01-01T00:00:00Z + offset. */
class StreamTrackerTest {
    private static final long WALL0 = Rfc3339.epochNanos("2026-01-01T00:00:00Z");
    private final LoadStats stats = new LoadStats();

    private static void line(StreamTracker t, String json, long nanos, long wallOffsetNanos) {
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        t.line(b, 0, b.length, nanos, WALL0 + wallOffsetNanos);
    }

    private static String chunk(String createdAt, boolean done) {
        return "{\"model\":\"m\",\"created_at\":\"" + createdAt + "\",\"response\":\"x\",\"done\":" + done + "}";
    }

    @Test
    void aCompleteStreamRecordsTtftGapsDelaysAndTotal() {
        StreamTracker t = new StreamTracker(stats, 1_000_000);
        t.status(200, 2_000_000);
        // created 00:00:00.050, arrives 0.3 ms later; then created .100, arrives 1.2 ms later.
        line(t, chunk("2026-01-01T00:00:00.05Z", false), 51_000_000, 50_300_000);
        line(t, chunk("2026-01-01T00:00:00.1Z", true), 102_000_000, 101_200_000);
        assertThat(t.end(103_000_000)).isTrue();

        LoadStats.Snapshot s = stats.snapshot();
        assertThat(s.started()).isEqualTo(1);
        assertThat(s.ok()).isEqualTo(1);
        assertThat(s.errorCount()).isZero();
        assertThat(s.chunks()).isEqualTo(2);
        assertThat(s.ttft().getMaxValue()).isBetween(49_990L, 50_040L);
        assertThat(s.chunkGap().getTotalCount()).isEqualTo(1);
        assertThat(s.chunkGap().getMaxValue()).isBetween(50_990L, 51_010L);
        assertThat(s.chunkDelay().getTotalCount()).isEqualTo(2);
        assertThat(s.chunkDelay().getMinValue()).isEqualTo(300);
        assertThat(s.chunkDelay().getMaxValue()).isBetween(1199L, 1201L);
        assertThat(s.total().getMaxValue()).isBetween(101_950L, 102_050L);
        assertThat(s.spanNanos()).isEqualTo(102_000_000);
    }

    @Test
    void aStreamEndingWithoutDoneIsIncomplete() {
        StreamTracker t = new StreamTracker(stats, 0);
        t.status(200, 1);
        line(t, chunk("2026-01-01T00:00:00Z", false), 10, 10);
        assertThat(t.end(20)).isFalse();
        LoadStats.Snapshot s = stats.snapshot();
        assertThat(s.errors()).containsEntry(ErrorKind.INCOMPLETE, 1L);
        assertThat(s.ok()).isZero();
        assertThat(s.total().getTotalCount()).isZero();
    }

    @Test
    void aNon200IsOneStatusErrorAndItsBodyIsNotMeasured() {
        StreamTracker t = new StreamTracker(stats, 0);
        t.status(404, 5);
        line(t, "{\"error\":\"model 'x' not found\"}", 6, 6);
        assertThat(t.end(7)).isFalse();
        LoadStats.Snapshot s = stats.snapshot();
        assertThat(s.errors()).containsEntry(ErrorKind.STATUS, 1L).containsEntry(ErrorKind.ERROR_LINE, 0L)
                .containsEntry(ErrorKind.INCOMPLETE, 0L);
        assertThat(s.chunks()).isZero();
        assertThat(s.ttft().getTotalCount()).isZero();
    }

    @Test
    void anErrorLineFailsTheRequestEvenIfDoneFollows() {
        StreamTracker t = new StreamTracker(stats, 0);
        t.status(200, 1);
        line(t, "{\"error\":\"an error was encountered while running the model: unexpected EOF\"}", 10, 10);
        line(t, chunk("2026-01-01T00:00:00Z", true), 11, 11);
        assertThat(t.end(12)).isFalse();
        LoadStats.Snapshot s = stats.snapshot();
        assertThat(s.errors()).containsEntry(ErrorKind.ERROR_LINE, 1L);
        assertThat(s.errorCount()).isEqualTo(1);
        assertThat(s.chunksWithoutCreatedAt()).isEqualTo(1);
    }

    @Test
    void aMalformedLineIsABadLine() {
        StreamTracker t = new StreamTracker(stats, 0);
        t.status(200, 1);
        line(t, "{\"created_at\":", 10, 10);
        t.end(12);
        assertThat(stats.snapshot().errors()).containsEntry(ErrorKind.BAD_LINE, 1L);
    }

    @Test
    void abortCountsOnceAndNothingAfterTheEnd() {
        StreamTracker t = new StreamTracker(stats, 0);
        t.abort(ErrorKind.TIMEOUT, 5);
        t.abort(ErrorKind.INCOMPLETE, 6);
        assertThat(t.end(7)).isFalse();
        StreamTracker ok = new StreamTracker(stats, 0);
        ok.status(200, 1);
        line(ok, chunk("2026-01-01T00:00:00Z", true), 2, 2);
        ok.end(3);
        ok.abort(ErrorKind.TIMEOUT, 4);
        LoadStats.Snapshot s = stats.snapshot();
        assertThat(s.errors()).containsEntry(ErrorKind.TIMEOUT, 1L).containsEntry(ErrorKind.INCOMPLETE, 0L);
        assertThat(s.ok()).isEqualTo(1);
        assertThat(s.started()).isEqualTo(2);
    }

    @Test
    void aChunkStampedAfterItsArrivalCountsAsNegativeAndRecordsZero() {
        StreamTracker t = new StreamTracker(stats, 0);
        t.status(200, 1);
        line(t, chunk("2026-01-01T00:00:01Z", true), 2, 0);
        t.end(3);
        LoadStats.Snapshot s = stats.snapshot();
        assertThat(s.negativeDelays()).isEqualTo(1);
        assertThat(s.chunkDelay().getMaxValue()).isZero();
    }

    @Test
    void valuesBeyondAnHourAreClampedNotLost() {
        StreamTracker t = new StreamTracker(stats, 0);
        t.status(200, 1);
        line(t, chunk("2026-01-01T00:00:00Z", true), 2 * 3_600_000_000_000L, 0);
        t.end(3 * 3_600_000_000_000L);
        LoadStats.Snapshot s = stats.snapshot();
        assertThat(s.ttft().getTotalCount()).isEqualTo(1);
        assertThat(s.ttft().getMaxValue()).isBetween(LoadStats.MAX_MICROS * 999 / 1000, LoadStats.MAX_MICROS * 1001 / 1000);
        assertThat(s.total().getTotalCount()).isEqualTo(1);
    }
}
