package io.ollamabalancer.estimate;

import io.ollamabalancer.request.BodyShape;
import io.ollamabalancer.request.InferenceRequest;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Percentage.withPercentage;

/**
 * What one replica's cost model and estimator export, another imports as a prior: the round trip, the weighing
 * against local evidence, and the validation of what comes from Redis.
 */
class CostModelStateTest {
    private static final String M = "llama3.2:latest";
    private static final String TEXT = "The quick brown fox jumps over the lazy dog while the balancer counts "
            + "every token of the prompt, including punctuation, numbers like 12345, and code: int x = y + 1; ";

    /** One replica's learning state. */
    private record Replica(CostModel cost, RequestEstimator estimator, CostModelState state) {
        static Replica create(TokenCounter counter) {
            CostModel cost = new CostModel(CostHints.defaults());
            RequestEstimator estimator = new RequestEstimator(counter, EstimatorSettings.defaults());
            return new Replica(cost, estimator, new CostModelState(cost, estimator));
        }

        /** A finished request: decode at {@code tps}, {@code output} tokens, Ollama counted {@code promptEval}. */
        void served(String backend, double tps, long output, long promptEval) {
            RequestEstimate predicted = new RequestEstimate(20, 200, -1, 20, true, false);
            TimingSample s = new TimingSample(promptEval, (long) (promptEval / 1000.0 * 1e9), output,
                    (long) (output / tps * 1e9), 0, 0);
            cost.record(backend, M, s, DecodeShare.constant(1));
            estimator.learn(M, predicted, s);
        }
    }

    private static InferenceRequest generate(String text) {
        return new InferenceRequest(M, true, -1, null, text, 0, 0, "", false, 0);
    }

    @Test
    void aLateReplicaStartsFromWhatTheOthersLearned() {
        Replica a = Replica.create(null);
        for (int i = 0; i < 8; i++) {
            a.served("fast", 600, 40, 30);
            a.served("slow", 60, 40, 30);
        }
        Map<String, WeightedStats> published = a.state().ownObservations();
        assertThat(published).containsKeys("speed|fast|" + M, "speed|slow|" + M, "output|" + M, "prompt|" + M);
        assertThat(published.get("speed|fast|" + M).weight()).isEqualTo(8);
        assertThat(published.get("speed|fast|" + M).values().get("decodeTps")).isCloseTo(600, withPercentage(2));

        Replica b = Replica.create(null);
        assertThat(b.cost().snapshot()).isEmpty();
        b.state().absorb(published);

        Speeds fast = b.cost().speeds("fast", M);
        Speeds slow = b.cost().speeds("slow", M);
        assertThat(fast.source()).isEqualTo(Speeds.Source.SHARED);
        assertThat(fast.samples()).isZero();
        assertThat(fast.decodeTps()).isCloseTo(600, withPercentage(15));
        assertThat(slow.decodeTps()).isCloseTo(60, withPercentage(15));
        List<SpeedSnapshot> rows = b.cost().snapshot();
        assertThat(rows).extracting(SpeedSnapshot::backend).containsExactly("fast", "slow");
        // output lengths (40 tokens, not the 200-token default) and the prompt ratio (30 / 20) came along
        assertThat(b.estimator().meanOutputTokens(M)).isBetween(30.0, 70.0);
        assertThat(b.estimator().promptRatio(M)).isCloseTo(1.5, withPercentage(5));
        // nothing absorbed is exported again: B has observed nothing itself
        assertThat(b.state().ownObservations()).isEmpty();
    }

    @Test
    void localEvidenceOutweighsTheSharedPriorAsItAccumulates() {
        Replica b = Replica.create(null);
        b.state().absorb(Map.of("speed|gpu|" + M, new WeightedStats(10_000, Map.of("decodeTps", 600.0)),
                "prompt|" + M, new WeightedStats(10_000, Map.of("ratio", 2.0))));
        assertThat(b.cost().speeds("gpu", M).decodeTps()).isCloseTo(600, withPercentage(15));
        for (int i = 0; i < 20; i++) {
            b.served("gpu", 300, 40, 20);
        }
        Speeds s = b.cost().speeds("gpu", M);
        assertThat(s.source()).isEqualTo(Speeds.Source.LEARNED);
        // however many samples the others claim, their say is capped: 20 own samples make the figure
        assertThat(s.decodeTps()).isCloseTo(300, withPercentage(12));
        assertThat(b.estimator().promptRatio(M)).isCloseTo(1.0, withPercentage(15));
        // and only the own samples are exported
        assertThat(b.state().ownObservations().get("speed|gpu|" + M).weight()).isEqualTo(20);
        assertThat(b.state().ownObservations().get("speed|gpu|" + M).values().get("decodeTps"))
                .isCloseTo(300, withPercentage(2));
    }

    @Test
    void aNewImportReplacesTheOldOne() {
        Replica b = Replica.create(null);
        b.state().absorb(Map.of("speed|gpu|" + M, new WeightedStats(5, Map.of("decodeTps", 600.0)),
                "output|" + M, new WeightedStats(50, Map.of("logMean", Math.log(20), "logSquare",
                        Math.log(20) * Math.log(20) + 0.04))));
        assertThat(b.estimator().meanOutputTokens(M)).isBetween(15.0, 30.0);
        b.state().absorb(Map.of());
        assertThat(b.cost().speeds("gpu", M).source()).isEqualTo(Speeds.Source.HINT);
        assertThat(b.cost().snapshot()).isEmpty();
        assertThat(b.estimator().meanOutputTokens(M)).isGreaterThan(150.0);
    }

    @Test
    void recordsOutOfBoundsOrMalformedAreIgnoredAndTheRestIsUsed() {
        Replica b = Replica.create(null);
        Map<String, WeightedStats> bad = new HashMap<>();
        bad.put("speed|huge|" + M, new WeightedStats(5, Map.of("decodeTps", 1e9)));
        bad.put("speed|negative|" + M, new WeightedStats(5, Map.of("decodeTps", -40.0)));
        bad.put("speed|missing|" + M, new WeightedStats(5, Map.of("tps", 40.0)));
        bad.put("speed|noModel", new WeightedStats(5, Map.of("decodeTps", 40.0)));
        bad.put("prefill|gpu|" + M, new WeightedStats(5, Map.of("prefillTps", 0.0)));
        bad.put("load|gpu|" + M, new WeightedStats(5, Map.of("loadMs", 1e12)));
        bad.put("prompt|" + M, new WeightedStats(5, Map.of("ratio", 100.0)));
        bad.put("output|" + M, new WeightedStats(5, Map.of("logMean", -3.0, "logSquare", 9.0)));
        bad.put("output|other", new WeightedStats(5, Map.of("logMean", 1.0, "logSquare", 400.0)));
        bad.put("calibration", new WeightedStats(5, Map.of("ratio", 0.0)));
        bad.put("mystery|x", new WeightedStats(5, Map.of("v", 1.0)));
        // a valid speed whose β is absurd keeps the speed and drops the β
        bad.put("speed|ok|" + M, new WeightedStats(5, Map.of("decodeTps", 45.0, "slowdown", 40.0)));
        b.state().absorb(bad);

        for (String backend : List.of("huge", "negative", "missing", "noModel")) {
            assertThat(b.cost().speeds(backend, M).source()).as(backend).isNotEqualTo(Speeds.Source.SHARED);
        }
        Speeds gpu = b.cost().speeds("gpu", M);
        assertThat(gpu.prefillTps()).isFinite().isPositive();
        assertThat(gpu.loadNanos()).isLessThan(60_000_000_000L);
        assertThat(b.estimator().promptRatio(M)).isEqualTo(1.0);
        assertThat(b.estimator().meanOutputTokens(M)).isGreaterThan(150.0);
        assertThat(b.estimator().meanOutputTokens("other")).isGreaterThan(150.0);
        Speeds ok = b.cost().speeds("ok", M);
        assertThat(ok.source()).isEqualTo(Speeds.Source.SHARED);
        assertThat(ok.decodeTps()).isCloseTo(45, withPercentage(20));
        assertThat(ok.slowdown()).isEqualTo(CostHints.defaults().slowdown());
        assertThat(b.cost().snapshot()).extracting(SpeedSnapshot::backend).containsExactly("ok");
    }

    @Test
    void theCharacterCalibrationTravels() {
        Replica a = Replica.create(TokenCounter.shared());
        a.estimator().exact(generate(TEXT), BodyShape.GENERATE, M);
        WeightedStats calibration = a.state().ownObservations().get("calibration");
        assertThat(calibration).isNotNull();

        String longText = TEXT.repeat(30);
        int exact = TokenCounter.shared().count(longText) + EstimatorSettings.defaults().generateOverhead();
        Replica b = Replica.create(null);
        int before = b.estimator().estimate(generate(longText), BodyShape.GENERATE, M).rawPromptTokens();
        b.state().absorb(Map.of("calibration", calibration));
        int after = b.estimator().estimate(generate(longText), BodyShape.GENERATE, M).rawPromptTokens();
        assertThat(Math.abs(after - exact)).isLessThan(Math.abs(before - exact));
        assertThat((double) after / exact).isBetween(0.9, 1.1);
    }

    @Test
    void namesWithSeparatorsSurviveTheKey() {
        Replica a = Replica.create(null);
        TimingSample s = new TimingSample(0, 0, 40, (long) (40 / 80.0 * 1e9), 0, 0);
        a.cost().record("rack|1%", "odd|model", s, DecodeShare.constant(1));
        Map<String, WeightedStats> published = a.state().ownObservations();
        assertThat(published).containsKey("speed|rack%7C1%25|odd%7Cmodel");
        Replica b = Replica.create(null);
        b.state().absorb(published);
        assertThat(b.cost().speeds("rack|1%", "odd|model").source()).isEqualTo(Speeds.Source.SHARED);
        assertThat(CostModelState.unescape(CostModelState.escape("%7C|%25"))).isEqualTo("%7C|%25");
    }
}
