package io.ollamabalancer.estimate;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;
import static org.assertj.core.data.Percentage.withPercentage;

class CostModelTest {
    private static final String M = "llama3.2:latest";
    private static final String N = "qwen2.5:latest";

    private static TimingSample sample(long prompt, double prefillTps, long output, double decodeTps, long loadNs) {
        long pd = (long) (prompt / prefillTps * 1e9);
        long ed = (long) (output / decodeTps * 1e9);
        return new TimingSample(prompt, pd, output, ed, loadNs, loadNs + pd + ed);
    }

    @Test
    void learnsPrefillDecodeAndLoadFromOllamasTimingFields() {
        CostModel cm = new CostModel(CostHints.defaults());
        for (int i = 0; i < 10; i++) {
            cm.record("a", M, sample(500, 1000, 200, 100, 2_000_000), DecodeShare.constant(1));
        }
        cm.record("a", M, sample(500, 1000, 200, 100, 4_000_000_000L), DecodeShare.constant(1));
        Speeds s = cm.speeds("a", M);
        assertThat(s.source()).isEqualTo(Speeds.Source.LEARNED);
        assertThat(s.prefillTps()).isCloseTo(1000, withPercentage(10));
        assertThat(s.decodeTps()).isCloseTo(100, withPercentage(10));
        // warm load_duration (2 ms) is not a load; the one cold sample is, blended with the 3 s hint
        assertThat(s.loadNanos()).isBetween(3_000_000_000L, 4_000_000_000L);
        assertThat(s.serviceNanos(500, 200, 1, false)).isCloseTo(2_500_000_000L, withPercentage(10));
    }

    @Test
    void aPromptCacheHitDoesNotMakePrefillLookFast() {
        CostModel cm = new CostModel(CostHints.defaults());
        for (int i = 0; i < 20; i++) {
            cm.record("a", M, sample(1000, 500, 100, 50, 0), DecodeShare.constant(1));
        }
        cm.record("a", M, sample(1000, 50_000, 100, 50, 0), DecodeShare.constant(1));
        assertThat(cm.speeds("a", M).prefillTps()).isCloseTo(500, withPercentage(15));
    }

    /**
     * A model served only on the slow backends is not a slow model: its fleet speed is its speed on the fleet's
     * typical backend, and on the fast backend that never ran it, it is expected as fast as the fast backend runs the
     * model both kinds ran. (Means of the pairs seen would take it for the slow backends' speed, and expect it at
     * about 100 tokens/s on the fast one.)
     */
    @Test
    void aModelSeenOnlyOnSlowBackendsIsExpectedFastOnTheFastOne() {
        CostModel cm = new CostModel(CostHints.defaults());
        for (int i = 0; i < 10; i++) {
            for (String b : List.of("fast", "slow1", "slow2")) {
                cm.record(b, M, sample(100, b.equals("fast") ? 3000 : 1000, 100, b.equals("fast") ? 150 : 50, 0),
                        DecodeShare.constant(1));
            }
            cm.record("slow1", N, sample(100, 1000, 100, 50, 0), DecodeShare.constant(1));
            cm.record("slow2", N, sample(100, 1000, 100, 50, 0), DecodeShare.constant(1));
        }
        assertThat(cm.speeds("fast", N).decodeTps()).isCloseTo(150, withPercentage(5));
        assertThat(cm.speeds("fast", N).prefillTps()).isCloseTo(3000, withPercentage(5));
        assertThat(cm.fleetSpeeds(N).decodeTps()).isCloseTo(cm.fleetSpeeds(M).decodeTps(), withPercentage(5));
        assertThat(cm.speeds("slow1", N).decodeTps()).isCloseTo(50, withPercentage(5));
    }

    /** A model nobody has served yet is expected to run like the models served here, not at the hints' speed. */
    @Test
    void aModelNobodyServedYetBorrowsTheServedModelsSpeedNotTheHints() {
        CostModel cm = new CostModel(CostHints.defaults());
        for (int i = 0; i < 10; i++) {
            cm.record("a", M, sample(100, 2000, 100, 120, 0), DecodeShare.constant(1));
        }
        Speeds unseen = cm.speeds("a", N);
        assertThat(unseen.decodeTps()).isCloseTo(120, withPercentage(5));
        assertThat(unseen.prefillTps()).isCloseTo(2000, withPercentage(5));
        assertThat(cm.fleetSpeeds(N).decodeTps()).isCloseTo(120, withPercentage(5));
        // With nothing served at all, the hints stand.
        assertThat(new CostModel(CostHints.defaults()).fleetSpeeds(N).decodeTps()).isCloseTo(30, withPercentage(1));
    }

    @Test
    void aNewBackendStartsFromTheFleetAverage() {
        CostModel cm = new CostModel(CostHints.defaults());
        for (int i = 0; i < 10; i++) {
            cm.record("a", M, sample(100, 1000, 100, 100, 0), DecodeShare.constant(1));
            cm.record("b", M, sample(100, 1000, 100, 25, 0), DecodeShare.constant(1));
        }
        Speeds fresh = cm.speeds("c", M);
        assertThat(fresh.source()).isEqualTo(Speeds.Source.FLEET);
        assertThat(fresh.decodeTps()).isCloseTo(50, withPercentage(5));
        assertThat(fresh.samples()).isZero();
    }

    @Test
    void aBackendsRelativeSpeedCarriesOverToModelsItHasNotServed() {
        CostModel cm = new CostModel(CostHints.defaults());
        for (int i = 0; i < 10; i++) {
            cm.record("a", M, sample(100, 1000, 100, 50, 0), DecodeShare.constant(1));
            cm.record("b", M, sample(100, 4000, 100, 200, 0), DecodeShare.constant(1));
            cm.record("a", N, sample(100, 1000, 100, 40, 0), DecodeShare.constant(1));
        }
        assertThat(cm.speeds("b", N).decodeTps()).isGreaterThan(2 * cm.speeds("a", N).decodeTps());
    }

    @Test
    void configuredFactorsAndHintsApplyBeforeAnythingIsLearned() {
        CostModel cm = new CostModel(CostHints.defaults().withBackendFactors(Map.of("gpu", 3.0)));
        Speeds gpu = cm.speeds("gpu", M);
        Speeds cpu = cm.speeds("cpu", M);
        assertThat(cpu.source()).isEqualTo(Speeds.Source.HINT);
        assertThat(cpu.decodeTps()).isCloseTo(CostHints.defaults().decodeTps(), withPercentage(0.001));
        assertThat(gpu.decodeTps()).isCloseTo(3 * cpu.decodeTps(), withPercentage(1));
    }

    @Test
    void learnsHowDecodeSlowsAsSlotsFill() {
        CostModel cm = new CostModel(CostHints.defaults());
        for (int i = 0; i < 10; i++) {
            cm.record("a", M, sample(100, 1000, 100, 100, 0), DecodeShare.constant(1));
            cm.record("a", M, sample(100, 1000, 100, 40, 0), DecodeShare.constant(4));
        }
        Speeds s = cm.speeds("a", M);
        assertThat(s.slowdown()).isCloseTo(0.5, withPercentage(10));
        assertThat(s.decodeTps(1)).isCloseTo(100, withPercentage(10));
        assertThat(s.decodeTps(4)).isCloseTo(40, withPercentage(10));
        assertThat(s.parallelGain(4)).isCloseTo(1.6, withPercentage(10));
    }

    @Test
    void aPairThatRanAtOneConcurrencyTakesTheSlowdownItsModelShowedElsewhereNotTheHint() {
        // Two equal backends decoding 10 tokens/s per stream however many run (β 0). "a" saw 50 and 150 streams,
        // so its β is told apart; "b" only ever ran 100, which every β explains. Predicted with the hint's β 0.5
        // instead of a's, b's single-stream rate came out at ~500 tokens/s: fifty times a's, for the same hardware.
        CostModel cm = new CostModel(CostHints.defaults());
        for (int i = 0; i < 40; i++) {
            cm.record("a", M, sample(100, 1000, 100, 10, 0), DecodeShare.constant(i % 2 == 0 ? 50 : 150));
            cm.record("b", M, sample(100, 1000, 100, 10, 0), DecodeShare.constant(100));
        }
        Speeds a = cm.speeds("a", M);
        Speeds b = cm.speeds("b", M);
        assertThat(a.slowdown()).isCloseTo(0, offset(0.05));
        assertThat(b.slowdown()).isEqualTo(a.slowdown());
        assertThat(b.decodeTps(100)).isCloseTo(10, withPercentage(5));
        assertThat(b.decodeTps(1)).isCloseTo(a.decodeTps(1), withPercentage(5));
        // What the status page and the other replicas are told agrees.
        Map<String, Map<String, SpeedFigures>> own = cm.ownFigures();
        assertThat(own.get("b").get(M).decodeTps()).isCloseTo(a.decodeTps(1), withPercentage(5));
    }

    @Test
    void fewSamplesAreBlendedWithThePrior() {
        CostModel cm = new CostModel(CostHints.defaults());
        for (int i = 0; i < 10; i++) {
            cm.record("a", M, sample(100, 1000, 100, 100, 0), DecodeShare.constant(1));
        }
        cm.record("b", M, sample(100, 1000, 100, 300, 0), DecodeShare.constant(1));
        // one sample of its own, and the other backend's 100 tokens/s as the prior
        assertThat(cm.speeds("b", M).decodeTps()).isBetween(110.0, 285.0);
        for (int i = 0; i < 30; i++) {
            cm.record("b", M, sample(100, 1000, 100, 300, 0), DecodeShare.constant(1));
        }
        assertThat(cm.speeds("b", M).decodeTps()).isCloseTo(300, withPercentage(5));
    }

    @Test
    void snapshotListsEveryLearnedPair() {
        CostModel cm = new CostModel(CostHints.defaults());
        cm.record("b", M, sample(100, 1000, 100, 100, 0), DecodeShare.constant(1));
        cm.record("a", N, sample(100, 1000, 100, 100, 0), DecodeShare.constant(1));
        List<SpeedSnapshot> rows = cm.snapshot();
        assertThat(rows).extracting(SpeedSnapshot::backend).containsExactly("a", "b");
        assertThat(rows.get(0).samples()).isEqualTo(1);
        assertThat(rows.get(0).decodeTps()).isPositive();
    }

    @Test
    void learningOnOnePairKeepsTheOtherPairsCachedPredictions() {
        CostModel cm = new CostModel(CostHints.defaults(), () -> 0L);
        for (int i = 0; i < 10; i++) {
            cm.record("a", M, sample(100, 1000, 100, 100, 0), DecodeShare.constant(1));
            cm.record("b", M, sample(100, 1000, 100, 50, 0), DecodeShare.constant(1));
        }
        Speeds b = cm.speeds("b", M);
        Speeds a = cm.speeds("a", M);
        assertThat(cm.speeds("b", M)).isSameAs(b);
        cm.record("a", M, sample(100, 1000, 100, 101, 0), DecodeShare.constant(1));
        assertThat(cm.speeds("b", M)).as("a 1 %% move of another pair is not material").isSameAs(b);
        assertThat(cm.speeds("a", M)).as("the pair that learned predicts afresh").isNotSameAs(a);
    }

    @Test
    void smallMovesReachTheFleetAveragesAfterTheIntervalAndBigOnesAtOnce() {
        long[] now = {0};
        CostModel cm = new CostModel(CostHints.defaults(), () -> now[0]);
        for (int i = 0; i < 10; i++) {
            cm.record("a", M, sample(100, 1000, 100, 100, 0), DecodeShare.constant(1));
        }
        assertThat(cm.speeds("c", M).decodeTps()).isCloseTo(100, withPercentage(0.1));
        // Past warm-up each sample moves the mean by a bounded step: 130 tokens/s moves it by less than 5 %.
        cm.record("a", M, sample(100, 1000, 100, 130, 0), DecodeShare.constant(1));
        double moved = ownDecode(cm, "a");
        assertThat(moved).isBetween(100.5, 105.0);
        assertThat(cm.speeds("c", M).decodeTps()).as("not yet in the fleet average").isCloseTo(100, withPercentage(0.1));
        now[0] += CostModel.REBUILD_INTERVAL_MS * 1_000_000L;
        cm.record("a", M, sample(100, 1000, 100, 130, 0), DecodeShare.constant(1));
        assertThat(cm.speeds("c", M).decodeTps()).isCloseTo(ownDecode(cm, "a"), withPercentage(0.1));
        // A backend's first samples are material: the fleet knows them at once, whatever the clock.
        double learned = ownDecode(cm, "a");
        for (int i = 0; i < 5; i++) {
            cm.record("b", M, sample(100, 1000, 100, 25, 0), DecodeShare.constant(1));
        }
        assertThat(cm.speeds("c", M).decodeTps()).isCloseTo(Math.sqrt(learned * 25), withPercentage(0.1));
    }

    @Test
    void aSnapshotFoldsInWhatTheIntervalHeldBack() {
        CostModel cm = new CostModel(CostHints.defaults(), () -> 0L);
        for (int i = 0; i < 10; i++) {
            cm.record("a", M, sample(100, 1000, 100, 100, 0), DecodeShare.constant(1));
        }
        cm.record("a", M, sample(100, 1000, 100, 130, 0), DecodeShare.constant(1));
        assertThat(cm.fleetSpeeds(M).decodeTps()).isCloseTo(100, withPercentage(0.1));
        cm.snapshot();
        assertThat(cm.fleetSpeeds(M).decodeTps()).isCloseTo(ownDecode(cm, "a"), withPercentage(0.1))
                .isGreaterThan(100.5);
    }

    /** The single-stream decode rate {@code backend} learned for M from its own samples alone. */
    private static double ownDecode(CostModel cm, String backend) {
        return cm.ownFigures().get(backend).get(M).decodeTps();
    }

    @Test
    void concurrentLearningOnOnePairLosesNoSample() throws Exception {
        CostModel cm = new CostModel(CostHints.defaults());
        int threads = 4;
        int each = 2_000;
        Thread[] workers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            int k = t;
            workers[t] = new Thread(() -> {
                for (int i = 0; i < each; i++) {
                    cm.record("a", M, sample(100, 1000, 100, 90 + k * 10 + i % 7, 0), DecodeShare.constant(1 + k % 2));
                    cm.speeds("a", M);
                }
            });
            workers[t].start();
        }
        for (Thread w : workers) {
            w.join();
        }
        assertThat(cm.speeds("a", M).samples()).isEqualTo((long) threads * each);
        assertThat(cm.snapshot()).singleElement().satisfies(r -> assertThat(r.samples()).isEqualTo(threads * each));
    }

    @Test
    void aGpuSeenInApiPsIsExpectedFasterThanACpuBeforeEitherHasAnswered() {
        CostModel cm = new CostModel(CostHints.defaults());
        cm.hardware("gpu", true);
        cm.hardware("cpu", false);
        assertThat(cm.speeds("gpu", M).decodeTps() / cm.speeds("cpu", M).decodeTps())
                .isCloseTo(CostModel.GPU_PRIOR, withPercentage(1));
    }

    @Test
    void aCpuIsNotTakenForAsFastAsAFleetMeanThatAGpuAloneMade() {
        CostModel cm = new CostModel(CostHints.defaults());
        cm.hardware("gpu", true);
        cm.hardware("cpu", false);
        for (int i = 0; i < 10; i++) {
            cm.record("gpu", M, sample(500, 4000, 200, 300, 2_000_000), DecodeShare.constant(1));
        }
        // The fleet mean is the GPU's 300 tokens/s; the CPU's prior is a quarter of it, not all of it.
        assertThat(cm.speeds("cpu", M).decodeTps()).isCloseTo(300 / CostModel.GPU_PRIOR, withPercentage(15));
    }

    /**
     * The status page reads {@link CostModel#snapshot()} on an event loop: with a rebuild executor set, a snapshot
     * taken while the fleet-wide figures are behind asks that executor for the rebuild instead of fitting there.
     */
    @Test
    void withARebuildExecutorASnapshotNeverFitsOnTheCallersThread() {
        List<Runnable> queued = new java.util.ArrayList<>();
        long[] now = {0};
        CostModel cm = new CostModel(CostHints.defaults(), () -> now[0]);
        cm.rebuildOn(queued::add);
        for (int i = 0; i < 10; i++) {
            cm.record("slow1", N, sample(100, 1000, 100, 50, 0), DecodeShare.constant(1));
        }
        assertThat(queued).hasSize(1);
        queued.remove(0).run();
        double built = cm.fleetSpeeds(N).decodeTps();
        assertThat(built).isCloseTo(50, withPercentage(5));

        // A small change, soon after the rebuild: the figures are stale, and no rebuild is asked for yet.
        cm.record("slow1", N, sample(100, 1000, 100, 52, 0), DecodeShare.constant(1));
        assertThat(queued).isEmpty();
        assertThat(cm.snapshot()).extracting(SpeedSnapshot::model).contains(N);
        assertThat(cm.fleetSpeeds(N).decodeTps()).as("not fitted on the caller's thread").isEqualTo(built);
        assertThat(queued).as("the rebuild asked of the executor").hasSize(1);
        queued.remove(0).run();
        assertThat(cm.fleetSpeeds(N).decodeTps()).isNotEqualTo(built);
    }
}
