package io.ollamabalancer.auth;

import io.ollamabalancer.auth.BucketLeases.Ask;
import io.ollamabalancer.auth.BucketLeases.Holder;
import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The lease arithmetic of a shared bucket, against an in-memory store that answers when the test says so (the
 * Redis side, the same arithmetic in Lua, is {@code KeyBucketsTest}'s).
 */
class LeasedBucketTest {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private final AtomicLong now = new AtomicLong(-5_000_000_000_000L);

    /** The shared store as the buckets see it: asks queue up until the test answers them. */
    private static final class Store implements BucketLeases {
        final Deque<Ask> asks = new ArrayDeque<>();
        final List<Ask> givenBack = new ArrayList<>();
        final Deque<Holder> holders = new ArrayDeque<>();
        volatile boolean shared = true;
        volatile int replicas = 2;

        @Override
        public boolean shared() {
            return shared;
        }

        @Override
        public int replicas() {
            return replicas;
        }

        @Override
        public void lease(Ask ask, Holder holder) {
            if (ask.generation() < 0) {
                givenBack.add(ask);
            } else {
                asks.add(ask);
                holders.add(holder);
            }
        }

        /** Answers the oldest ask with {@code units} and {@code waitMillis}. */
        Ask answer(long units, long waitMillis) {
            Ask a = asks.remove();
            holders.remove().granted(a, units, waitMillis);
            return a;
        }
    }

    private final Store store = new Store();

    private LeasedBucket bucket(long perMinute) {
        return new LeasedBucket("team:rpm", perMinute, store, now::get);
    }

    private void advance(long nanos) {
        now.addAndGet(nanos);
    }

    @Test
    void aChunkIsAnEighthOfEachReplicasShareAndAtLeastOne() {
        assertThat(LeasedBucket.chunk(20, 2)).isEqualTo(2);
        assertThat(LeasedBucket.chunk(200_000, 2)).isEqualTo(12_500);
        assertThat(LeasedBucket.chunk(1, 5)).isEqualTo(1);
        assertThat(LeasedBucket.chunk(60, 0)).isEqualTo(8);
    }

    @Test
    void theFirstRequestPassesOnCreditAndTheLeaseIsSpentWithoutAsking() {
        LeasedBucket b = bucket(20); // chunk 2 with two replicas
        assertThat(b.take(1)).isZero();
        Ask first = store.asks.peek();
        assertThat(first).isNotNull();
        // A chunk, plus the request taken on credit.
        assertThat(first.ask()).isEqualTo(3);
        assertThat(first.need()).isEqualTo(2);
        assertThat(first.perMinute()).isEqualTo(20);
        assertThat(first.bucket()).isEqualTo("team:rpm");

        // On credit up to a chunk of debt: one more passes, the next waits for the answer (a second: it is on its way).
        assertThat(b.take(1)).isZero();
        assertThat(b.take(1)).isEqualTo(SECOND);
        assertThat(store.asks).hasSize(1);

        store.answer(3, 0);
        assertThat(b.level()).isEqualTo(1.0);
        assertThat(store.asks).isEmpty();
        assertThat(b.take(1)).isZero();
        assertThat(store.asks).as("spent: the next chunk is asked for").hasSize(1);
        assertThat(store.asks.peek().ask()).isEqualTo(2);
        store.answer(2, 0);
        assertThat(b.take(1)).isZero();
        assertThat(store.asks).as("half a chunk left: no ask").isEmpty();
    }

    @Test
    void anEmptyStoreRefusesUntilTheTimeItSaidAndIsNotAskedMeanwhile() {
        LeasedBucket b = bucket(20);
        assertThat(b.take(1)).isZero();
        store.answer(0, 3_000); // the other replica took everything: 3 s until the units lacking refill
        long wait = b.take(1);
        assertThat(wait).isEqualTo(3 * SECOND);
        advance(SECOND);
        assertThat(b.take(1)).isEqualTo(2 * SECOND);
        assertThat(store.asks).as("no ask while the store is known to be empty").isEmpty();
        advance(2 * SECOND);
        // The store should hold units again: on credit once more, and asked for a chunk and the debt.
        assertThat(b.take(1)).isZero();
        Ask again = store.asks.peek();
        assertThat(again).isNotNull();
        assertThat(again.ask()).isEqualTo(4);
        assertThat(b.take(1)).as("beyond a chunk of debt").isEqualTo(SECOND);
        store.answer(4, 0);
        assertThat(b.take(1)).isZero();
    }

    @Test
    void aLargeTokensAskIsAskedForWholeAndTheCorrectionLandsOnTheLease() {
        LeasedBucket b = new LeasedBucket("team:tpm", 16_000, store, now::get); // chunk 1,000
        assertThat(b.take(5_000)).isZero();
        Ask a = store.asks.peek();
        assertThat(a.ask()).isEqualTo(10_000);
        store.answer(10_000, 0);
        assertThat(b.level()).isEqualTo(5_000.0);
        b.adjust(4_000); // the real count was lower
        assertThat(b.level()).isEqualTo(9_000.0);
        b.adjust(-12_000);
        assertThat(b.level()).isEqualTo(-3_000.0);
        assertThat(b.take(10)).as("in debt, an answer on its way: refused").isEqualTo(SECOND);
    }

    @Test
    void withoutTheStoreEachReplicaHoldsItsShareAndAFlappingStoreGivesNoFreshBurst() {
        LeasedBucket b = bucket(20);
        assertThat(b.take(1)).isZero();
        store.answer(3, 0);
        store.shared = false;
        int passed = 0;
        while (b.take(1) == 0) {
            passed++;
        }
        assertThat(passed).as("20 a minute over 2 replicas").isEqualTo(10);
        assertThat(b.take(1)).as("a unit of 10 a minute refills in 6 s").isEqualTo(6 * SECOND);

        store.shared = true;
        assertThat(b.take(1)).as("back: on credit, asking for a lease").isZero();
        Ask stale = store.asks.remove();
        Holder h = store.holders.remove();
        store.shared = false;
        assertThat(b.take(1)).as("gone again at once: the share is still spent").isPositive();
        h.granted(stale, 3, 0);
        assertThat(b.level()).as("an answer from before the outage is ignored").isLessThan(1.0);

        store.replicas = 4;
        advance(30 * SECOND);
        // 5 a minute now, and the level carried over (5 refilled in 30 s, capped at the new share).
        passed = 0;
        while (b.take(1) == 0) {
            passed++;
        }
        assertThat(passed).isEqualTo(5);
    }

    @Test
    void anIdleLeaseGoesBackAndADebtIsPaid() {
        LeasedBucket b = bucket(20);
        assertThat(b.take(1)).isZero();
        store.answer(3, 0);
        assertThat(b.idleReturn()).as("in use").isNull();
        advance(LeasedBucket.IDLE_SECONDS * SECOND);
        Ask back = b.idleReturn();
        assertThat(back.giveBack()).isEqualTo(2);
        assertThat(back.ask()).isZero();
        assertThat(b.level()).isZero();
        assertThat(b.idleReturn().giveBack()).as("nothing left to give").isZero();

        LeasedBucket debtor = bucket(20);
        assertThat(debtor.take(1)).isZero();
        store.asks.remove();
        Holder h = store.holders.remove();
        h.failed(new Ask("team:rpm", 20, 3, 0, 2, 1)); // Redis did not answer
        advance(LeasedBucket.IDLE_SECONDS * SECOND);
        Ask pay = debtor.idleReturn();
        assertThat(pay.ask()).as("the request taken on credit").isEqualTo(1);
        assertThat(debtor.idleReturn()).as("paying").isNull();
    }

    @Test
    void aReplacedBucketGivesItsLeaseBack() {
        LeasedBucket b = bucket(20);
        b.take(1);
        store.answer(5, 0);
        b.close();
        assertThat(store.givenBack).singleElement().satisfies(a -> assertThat(a.giveBack()).isEqualTo(4));
        assertThat(b.level()).isZero();
    }

    @Test
    void aReloadThatChangesTheLimitGivesTheOldLeaseBackAndAsksUnderTheNewLimit() {
        String digest = HexFormat.of().formatHex(ApiKeysFile.sha256("sk-team"));
        ApiKey v1 = new ApiKey("team", digest, 20, 0, 0, List.of(), null);
        ApiKey v2 = new ApiKey("team", digest, 40, 0, 0, List.of(), null);
        ApiKeys keys = new ApiKeys(List.of(v1), now::get);
        keys.shareBuckets(store);
        assertThat(keys.admit(keys.authenticate("Bearer sk-team"), null, 0, 1).admitted()).isTrue();
        store.answer(5, 0);

        keys.replace(List.of(v1));
        assertThat(store.givenBack).as("an unchanged key keeps its lease").isEmpty();
        keys.replace(List.of(v2));
        assertThat(store.givenBack).singleElement().satisfies(a -> {
            assertThat(a.giveBack()).isEqualTo(4);
            assertThat(a.bucket()).isEqualTo("team:rpm");
        });
        assertThat(keys.admit(keys.authenticate("Bearer sk-team"), null, 0, 2).admitted()).isTrue();
        assertThat(store.asks.peek().perMinute()).as("the shared bucket takes the new limit").isEqualTo(40);
    }

    /**
     * Two replicas spending leases of one store under random arrivals and answer delays admit no more than the store
     * granted, plus the chunk each may have on credit.
     */
    @Test
    void replicasTogetherAdmitNoMoreThanTheStoreGrantsPlusAChunkEach() {
        Random rnd = new Random(42);
        double[] level = {60};
        double perNano = 60 / 60e9;
        long[] last = {now.get()};
        long[] granted = {0};
        Store s1 = new Store();
        Store s2 = new Store();
        LeasedBucket a = new LeasedBucket("k:rpm", 60, s1, now::get);
        LeasedBucket b = new LeasedBucket("k:rpm", 60, s2, now::get);
        long admitted = 0;
        for (int step = 0; step < 20_000; step++) {
            advance(rnd.nextInt(50) * 1_000_000L);
            LeasedBucket which = rnd.nextBoolean() ? a : b;
            if (which.take(1) == 0) {
                admitted++;
            }
            for (Store s : List.of(s1, s2)) {
                if (!s.asks.isEmpty() && rnd.nextInt(3) == 0) {
                    long t = now.get();
                    level[0] = Math.min(60, level[0] + (t - last[0]) * perNano);
                    last[0] = t;
                    Ask ask = s.asks.peek();
                    long g = level[0] >= 1 ? Math.min(ask.ask(), (long) Math.floor(level[0])) : 0;
                    level[0] -= g;
                    granted[0] += g;
                    long wait = g >= ask.need() ? 0 : (long) Math.ceil((ask.need() - g - level[0]) / perNano / 1e6);
                    s.answer(g, wait);
                }
            }
            // A chunk (4) of debt each, at most.
            assertThat(admitted).as("step %d", step).isLessThanOrEqualTo(granted[0] + 2 * LeasedBucket.chunk(60, 2));
        }
        long minutes = 20_000L * 25 / 60_000;
        assertThat(admitted).as("the limit is used, not starved").isGreaterThan(60 * minutes * 8 / 10);
    }
}
