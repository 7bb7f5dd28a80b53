package io.ollamabalancer.estimate;

import io.ollamabalancer.request.BodyShape;
import io.ollamabalancer.request.InferenceRequest;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RequestEstimatorTest {
    private static final String MODEL = "llama3.2:latest";
    private static final String ENGLISH = "The quick brown fox jumps over the lazy dog while the balancer counts "
            + "every token of the prompt, including punctuation, numbers like 12345, and code: int x = y + 1; ";

    private static InferenceRequest generate(String text, int cap) {
        return new InferenceRequest(MODEL, true, cap, null, text, 0, 0, "", false, 0);
    }

    private static InferenceRequest chat(String text, int messages) {
        return new InferenceRequest(MODEL, true, -1, null, text, messages, 7, "", false, 0);
    }

    @Test
    void exactCountsAreTheTokenizersWithTheTemplateOverhead() {
        RequestEstimator est = new RequestEstimator(TokenCounter.shared(), EstimatorSettings.defaults());
        RequestEstimate e = est.exact(generate(ENGLISH, -1), BodyShape.GENERATE, MODEL);
        int tokens = TokenCounter.shared().count(ENGLISH);
        assertThat(e.promptExact()).isTrue();
        assertThat(e.rawPromptTokens()).isEqualTo(tokens + EstimatorSettings.defaults().generateOverhead());
        assertThat(e.promptTokens()).isEqualTo(e.rawPromptTokens());
    }

    @Test
    void theEstimateAtDispatchIsLengthBasedEvenForShortPromptsAndTheExactCountCalibratesIt() {
        RequestEstimator est = new RequestEstimator(TokenCounter.shared(), EstimatorSettings.defaults());
        RequestEstimate quick = est.estimate(generate(ENGLISH, -1), BodyShape.GENERATE, MODEL);
        assertThat(quick.promptExact()).as("no tokenizer on the caller's thread").isFalse();
        assertThat(est.wantsExact(generate(ENGLISH, -1), quick)).isTrue();
        RequestEstimate exact = est.exact(generate(ENGLISH, -1), BodyShape.GENERATE, MODEL);
        assertThat((double) quick.rawPromptTokens() / exact.rawPromptTokens()).isBetween(0.7, 1.4);
        RequestEstimate again = est.estimate(generate(ENGLISH, -1), BodyShape.GENERATE, MODEL);
        assertThat(again.promptExact()).isFalse();
        assertThat(Math.abs(again.rawPromptTokens() - exact.rawPromptTokens()))
                .isLessThanOrEqualTo(Math.abs(quick.rawPromptTokens() - exact.rawPromptTokens()))
                .isLessThanOrEqualTo(2);
    }

    @Test
    void promptsTooShortToCalibrateAreNotWorthAnExactCount() {
        RequestEstimator est = new RequestEstimator(TokenCounter.shared(), EstimatorSettings.defaults());
        InferenceRequest hi = generate("Why is the sky blue?", -1);
        assertThat(est.wantsExact(hi, est.estimate(hi, BodyShape.GENERATE, MODEL))).isFalse();
        InferenceRequest cjk = generate("负载均衡器在多个服务器之间分配请求", -1);
        assertThat(est.wantsExact(cjk, est.estimate(cjk, BodyShape.GENERATE, MODEL))).isTrue();
        assertThat(new RequestEstimator(null, EstimatorSettings.defaults()).wantsExact(generate(ENGLISH, -1),
                est.estimate(generate(ENGLISH, -1), BodyShape.GENERATE, MODEL))).as("no tokenizer").isFalse();
    }

    @Test
    void chatAddsAPerMessageOverhead() {
        RequestEstimator est = new RequestEstimator(TokenCounter.shared(), EstimatorSettings.defaults());
        RequestEstimate e = est.exact(chat(ENGLISH, 3), BodyShape.CHAT, MODEL);
        EstimatorSettings s = EstimatorSettings.defaults();
        assertThat(e.rawPromptTokens()).isEqualTo(TokenCounter.shared().count(ENGLISH)
                + s.chatBaseOverhead() + 3 * s.perMessageOverhead());
    }

    @Test
    void longPromptsGetALengthEstimateNowAndTheExactCountLater() {
        RequestEstimator est = new RequestEstimator(TokenCounter.shared(),
                EstimatorSettings.defaults().withExactInlineChars(100));
        String text = ENGLISH.repeat(40);
        RequestEstimate quick = est.estimate(generate(text, -1), BodyShape.GENERATE, MODEL);
        assertThat(quick.promptExact()).isFalse();
        assertThat(est.wantsExact(generate(text, -1), quick)).isTrue();
        RequestEstimate exact = est.exact(generate(text, -1), BodyShape.GENERATE, MODEL);
        assertThat(exact.promptExact()).isTrue();
        assertThat((double) quick.rawPromptTokens() / exact.rawPromptTokens()).isBetween(0.7, 1.4);
        // the exact count calibrated the length-based estimate: the next quick one is closer still
        RequestEstimate again = est.estimate(generate(text, -1), BodyShape.GENERATE, MODEL);
        assertThat(Math.abs(again.rawPromptTokens() - exact.rawPromptTokens()))
                .isLessThanOrEqualTo(Math.abs(quick.rawPromptTokens() - exact.rawPromptTokens()));
    }

    @Test
    void nonLatinTextIsCountedWithTheMultilingualVocabulary() {
        String chinese = "负载均衡器在多个服务器之间分配请求，以便每个请求尽快完成。";
        assertThat(TextProfile.of(chinese).mostlyNonLatin()).isTrue();
        assertThat(TextProfile.of(ENGLISH).mostlyNonLatin()).isFalse();
        assertThat(TokenCounter.shared().count(chinese)).isBetween(10, chinese.length() * 2);
    }

    @Test
    void learnsEachModelsPromptRatioFromPromptEvalCount() {
        RequestEstimator est = new RequestEstimator(null, EstimatorSettings.defaults());
        InferenceRequest r = generate(ENGLISH.repeat(5), -1);
        RequestEstimate first = est.estimate(r, BodyShape.GENERATE, MODEL);
        for (int i = 0; i < 20; i++) {
            est.learn(MODEL, first, new TimingSample(Math.round(first.rawPromptTokens() * 1.5), 1, 10, 1, 0, 1));
        }
        RequestEstimate later = est.estimate(r, BodyShape.GENERATE, MODEL);
        assertThat((double) later.promptTokens() / later.rawPromptTokens()).isBetween(1.45, 1.55);
        assertThat(est.estimate(r, BodyShape.GENERATE, "other:latest").promptTokens())
                .isEqualTo(first.promptTokens());
    }

    @Test
    void expectedOutputIsLearnedPerModelAndCappedByNumPredict() {
        RequestEstimator est = new RequestEstimator(null, EstimatorSettings.defaults());
        RequestEstimate e = est.estimate(generate("hi", -1), BodyShape.GENERATE, MODEL);
        assertThat(e.expectedOutputTokens()).isBetween(150, 400);
        for (int i = 0; i < 300; i++) {
            est.learn(MODEL, e, new TimingSample(12, 1, 40, 1, 0, 1));
        }
        assertThat(est.estimate(generate("hi", -1), BodyShape.GENERATE, MODEL).expectedOutputTokens())
                .isBetween(36, 44);
        RequestEstimate capped = est.estimate(generate("hi", 16), BodyShape.GENERATE, MODEL);
        assertThat(capped.expectedOutputTokens()).isLessThanOrEqualTo(16);
        assertThat(capped.outputCap()).isEqualTo(16);
    }

    @Test
    void embeddingsHaveNoOutputAndTeachNoLengths() {
        RequestEstimator est = new RequestEstimator(null, EstimatorSettings.defaults());
        RequestEstimate e = est.estimate(generate("embed me", -1), BodyShape.EMBED, MODEL);
        assertThat(e.embedding()).isTrue();
        assertThat(e.expectedOutputTokens()).isZero();
        double before = est.meanOutputTokens(MODEL);
        est.learn(MODEL, e, new TimingSample(5, 1, 0, 0, 0, 1));
        assertThat(est.meanOutputTokens(MODEL)).isEqualTo(before);
    }

    @Test
    void emptyPromptCostsNothing() {
        RequestEstimator est = new RequestEstimator(TokenCounter.shared(), EstimatorSettings.defaults());
        InferenceRequest load = new InferenceRequest(MODEL, false, -1, "5m", "", 0, 0, "", true, 0);
        RequestEstimate e = est.estimate(load, BodyShape.GENERATE, MODEL);
        assertThat(e.promptTokens()).isZero();
        assertThat(e.expectedOutputTokens()).isZero();
    }

    @Test
    void imagesCostPromptTokens() {
        RequestEstimator est = new RequestEstimator(null, EstimatorSettings.defaults());
        InferenceRequest plain = new InferenceRequest(MODEL, true, -1, null, "describe", 1, 0, "", false, 0);
        InferenceRequest withImages = new InferenceRequest(MODEL, true, -1, null, "describe", 1, 0, "", false, 2);
        assertThat(est.estimate(withImages, BodyShape.CHAT, MODEL).promptTokens()
                - est.estimate(plain, BodyShape.CHAT, MODEL).promptTokens())
                .isEqualTo(2 * EstimatorSettings.defaults().imageTokens());
    }
}
