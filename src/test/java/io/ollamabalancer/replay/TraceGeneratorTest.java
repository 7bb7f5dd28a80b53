package io.ollamabalancer.replay;

import io.ollamabalancer.request.InferenceRequest;
import io.ollamabalancer.request.RequestJsonParser;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.ollamabalancer.replay.ReplayFixtures.LLAMA;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class TraceGeneratorTest {
    private final SimAnswers answers = new SimAnswers(7, 150, 2048);

    @Test
    void theSameSeedGivesTheSameTraceAndAnotherSeedAnother() {
        TraceShape shape = ReplayFixtures.shape(300).withPriorities(0.2, 0.3);
        Trace a = TraceGenerator.generate("a", 11, shape, answers);
        Trace b = TraceGenerator.generate("a", 11, shape, answers);
        Trace c = TraceGenerator.generate("a", 12, shape, answers);
        assertThat(a.requests()).isEqualTo(b.requests());
        assertThat(c.requests().get(0).body()).isNotEqualTo(a.requests().get(0).body());
    }

    @Test
    void arrivalsArePoissonAtOnePerSecond() {
        Trace t = TraceGenerator.generate("p", 3, ReplayFixtures.shape(4000), answers);
        double[] gaps = new double[t.size()];
        double prev = 0;
        for (int i = 0; i < t.size(); i++) {
            gaps[i] = t.requests().get(i).at() - prev;
            prev = t.requests().get(i).at();
            assertThat(gaps[i]).isGreaterThanOrEqualTo(0);
        }
        double mean = Stats.mean(gaps);
        double var = 0;
        for (double g : gaps) {
            var += (g - mean) * (g - mean);
        }
        double cv = Math.sqrt(var / gaps.length) / mean;
        // exponential gaps: mean 1, coefficient of variation 1
        assertThat(mean).isCloseTo(1.0, within(0.06));
        assertThat(cv).isCloseTo(1.0, within(0.08));
        Trace fast = t.atRate("fast", 8);
        assertThat(fast.requests().get(100).at()).isCloseTo(t.requests().get(100).at() / 8, within(1e-9));
        assertThat(fast.rate()).isEqualTo(8);
    }

    @Test
    void mixesModelsPrioritiesRoutesAndCapsInTheAskedShares() {
        Trace t = TraceGenerator.generate("m", 5, ReplayFixtures.shape(4000).withPriorities(0.2, 0.3), answers);
        List<TraceRequest> rs = t.requests();
        assertThat(share(rs, r -> r.model().equals(LLAMA))).isCloseTo(0.7, within(0.03));
        assertThat(share(rs, r -> r.priority().equals("high"))).isCloseTo(0.2, within(0.03));
        assertThat(share(rs, r -> r.priority().equals("low"))).isCloseTo(0.3, within(0.03));
        assertThat(share(rs, r -> r.route().equals(TraceRequest.CHAT))).isCloseTo(0.7, within(0.03));
        assertThat(share(rs, r -> r.numPredict() >= 0)).isCloseTo(0.3, within(0.03));
        assertThat(rs).allSatisfy(r -> {
            if (r.numPredict() >= 0) {
                assertThat(r.outputTokens()).isLessThanOrEqualTo(r.numPredict());
            }
        });
    }

    @Test
    void promptAndAnswerLengthsAreLogNormalWithTheAskedMedians() {
        Trace t = TraceGenerator.generate("l", 9, ReplayFixtures.shape(4000), answers);
        List<TraceRequest> uncapped = t.requests().stream().filter(r -> r.numPredict() < 0).toList();
        double[] out = Stats.sorted(uncapped, TraceRequest::outputTokens);
        // the simulator's draw: log-normal, σ 1, mean 150, so median 150·e^−½ ≈ 91 and p99 ≈ 930
        assertThat(Stats.quantile(out, 0.5)).isCloseTo(91, within(9.0));
        assertThat(Stats.quantile(out, 0.99)).isBetween(650.0, 1300.0);
        double[] prompt = Stats.sorted(t.requests().stream().filter(r -> r.route().equals("generate")).toList(),
                TraceRequest::promptTokens);
        assertThat(Stats.quantile(prompt, 0.5)).isCloseTo(250, within(20.0));
    }

    @Test
    void bodiesParseAsTheBalancerReadsThemAndCountAsTheSimulatorDoes() throws Exception {
        Trace t = TraceGenerator.generate("b", 2, ReplayFixtures.shape(200), answers);
        RequestJsonParser parser = new RequestJsonParser();
        for (TraceRequest r : t.requests()) {
            byte[] body = r.bodyBytes();
            InferenceRequest parsed = parser.parse(body, 0, body.length, r.shape());
            assertThat(parsed.model()).isEqualTo(r.model());
            assertThat(parsed.maxOutputTokens()).isEqualTo(r.numPredict());
            int chars = parsed.promptText().length();
            assertThat(r.promptTokens()).isEqualTo((chars + 3) / 4 + (r.route().equals("chat") ? 15 : 0));
            assertThat(r.outputTokens()).isEqualTo(answers.outputTokens(body, r.numPredict()));
        }
    }

    @Test
    void aWarmUpComesFirstAndIsLeftOutOfTheMeasuredOutcomes() {
        Trace warm = TraceGenerator.generate("w", 1, ReplayFixtures.shape(10), answers);
        Trace main = TraceGenerator.generate("m", 2, ReplayFixtures.shape(20), answers).atRate("m", 4);
        Trace both = main.afterWarmup(warm, 2.0);
        assertThat(both.size()).isEqualTo(30);
        assertThat(both.warmup()).isEqualTo(10);
        assertThat(both.requests().get(10).body()).isEqualTo(main.requests().get(0).body());
        assertThat(both.requests().get(10).at()).isCloseTo(warm.span() + 2 + main.requests().get(0).at(),
                within(1e-9));
        List<Outcome> outcomes = both.requests().stream()
                .map(r -> new Outcome(r.id(), r.priority(), "b", 1, 1, 0, null, 1, 1, 1)).toList();
        assertThat(both.measured(outcomes)).hasSize(20).allSatisfy(o -> assertThat(o.id()).isGreaterThanOrEqualTo(10));
        assertThatThrownBy(() -> new TraceShape(10, java.util.Map.of(LLAMA, 1.0), 0.7, 0.5, 0, 0, 100, 1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static double share(List<TraceRequest> rs, java.util.function.Predicate<TraceRequest> p) {
        return rs.stream().filter(p).count() / (double) rs.size();
    }
}
