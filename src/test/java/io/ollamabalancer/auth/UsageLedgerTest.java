package io.ollamabalancer.auth;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The per-key usage history behind {@code GET /balancer/usage}. */
class UsageLedgerTest {
    private static final long MINUTE = 60_000L;
    private final AtomicLong now = new AtomicLong(1_800_000_000_000L); // a minute boundary
    private final UsageLedger ledger = new UsageLedger(now::get);

    private UsageLedger.KeyUsage key(UsageLedger.Report r, String name) {
        return r.keys().stream().filter(k -> k.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void countsEachKeysRequestsRefusalsTokensAndQueueWait() {
        ledger.admitted("a");
        ledger.admitted("a");
        ledger.refused("a", Refusal.OVER_TPM);
        ledger.completed("a", 10, 20, 3_000_000_000L);
        ledger.completed("a", 5, 7, 1_000_000_000L);
        ledger.admitted("b");
        UsageLedger.Report all = ledger.since(0, List.of("a", "b", "unused"));
        UsageLedger.KeyUsage a = key(all, "a");
        assertThat(a.requests()).isEqualTo(2);
        assertThat(a.refused()).containsEntry(Refusal.OVER_TPM, 1L).containsEntry(Refusal.OVER_RPM, 0L);
        assertThat(a.completed()).isEqualTo(2);
        assertThat(a.promptTokens()).isEqualTo(15);
        assertThat(a.generatedTokens()).isEqualTo(27);
        assertThat(a.queueWaitNanos()).isEqualTo(4_000_000_000L);
        assertThat(key(all, "b").requests()).isEqualTo(1);
        assertThat(key(all, "unused").requests()).as("a key never used is reported, with zeros").isZero();
        assertThat(all.fromMillis()).as("since start").isEqualTo(ledger.startedMillis());
    }

    @Test
    void sinceCountsOnlyTheMinutesFromThatTime() {
        ledger.admitted("a");
        now.addAndGet(10 * MINUTE);
        ledger.admitted("a");
        ledger.admitted("a");
        now.addAndGet(MINUTE / 2);
        assertThat(key(ledger.since(now.get() - 5 * MINUTE, List.of("a")), "a").requests()).isEqualTo(2);
        assertThat(key(ledger.since(now.get() - 20 * MINUTE, List.of("a")), "a").requests())
                .as("before start: everything").isEqualTo(3);
        UsageLedger.Report recent = ledger.since(now.get() - MINUTE / 4, List.of("a"));
        assertThat(key(recent, "a").requests()).as("the current minute counts whole").isEqualTo(2);
        assertThat(recent.fromMillis()).isEqualTo(now.get() - MINUTE / 2);
    }

    @Test
    void historyReachesBackADayAndABucketIsReusedAfterIt() {
        now.addAndGet(3L * UsageLedger.MINUTES * MINUTE); // running for three days
        ledger.admitted("a");
        now.addAndGet(UsageLedger.MINUTES * MINUTE); // the same slot of the ring, a day later
        ledger.admitted("a");
        UsageLedger.Report day = ledger.since(now.get() - 2L * UsageLedger.MINUTES * MINUTE + 1, List.of("a"));
        assertThat(key(day, "a").requests()).as("the old minute's count was not added to the new one").isEqualTo(1);
        assertThat(day.fromMillis()).as("a day back, no further")
                .isEqualTo(now.get() - (UsageLedger.MINUTES - 1) * MINUTE);
        assertThat(key(ledger.since(0, List.of("a")), "a").requests()).as("totals since start keep both")
                .isEqualTo(2);
    }

    @Test
    void sinceAcceptsATimeEpochSecondsOrADurationAndNothingElse() {
        long t = 1_800_000_000_000L;
        long eight = java.time.Instant.parse("2027-01-15T08:00:00Z").toEpochMilli();
        assertThat(UsageDocument.sinceMillis("2027-01-15T08:00:00Z", t)).isEqualTo(eight);
        assertThat(UsageDocument.sinceMillis("2027-01-15T09:00:00+01:00", t))
                .isEqualTo(eight);
        assertThat(UsageDocument.sinceMillis("1800000000", t)).isEqualTo(1_800_000_000_000L);
        assertThat(UsageDocument.sinceMillis("90m", t)).isEqualTo(t - 90 * MINUTE);
        assertThat(UsageDocument.sinceMillis("1h", t)).isEqualTo(t - 60 * MINUTE);
        for (String bad : new String[] {"yesterday", "2027-13-01T00:00:00Z", "-1h", "1h-"}) {
            assertThatThrownBy(() -> UsageDocument.sinceMillis(bad, t)).as(bad)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("invalid since '" + bad);
        }
    }
}
