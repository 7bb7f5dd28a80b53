package io.ollamabalancer.schedule;

import io.ollamabalancer.estimate.CostHints;
import io.ollamabalancer.estimate.EstimatorSettings;
import io.ollamabalancer.estimate.RequestEstimate;
import io.ollamabalancer.estimate.TokenCounter;
import io.ollamabalancer.request.BodyShape;
import io.ollamabalancer.request.InferenceRequest;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** What {@link Scheduling#estimate} does on the caller's thread (an event loop) and what it leaves to the tokenizer's. */
class SchedulingTest {
    private static final String TEXT = "The quick brown fox jumps over the lazy dog while the balancer counts every "
            + "token of the prompt, including punctuation, numbers like 12345, and code: int x = y + 1; ";

    @Test
    void everyPromptIsEstimatedByLengthNowAndCountedExactlyOnTheTokenizerThread() {
        List<Runnable> tokenizer = new ArrayList<>();
        try (Scheduling s = scheduling(tokenizer)) {
            PendingRequest first = request(TEXT);
            RequestEstimate quick = s.estimate(first, BodyShape.GENERATE);
            assertThat(quick.promptExact()).as("a short prompt is not tokenized on the caller's thread").isFalse();
            assertThat(first.estimate()).isSameAs(quick);
            assertThat(tokenizer).hasSize(1);

            tokenizer.remove(0).run();
            RequestEstimate exact = first.estimate();
            assertThat(exact.promptExact()).isTrue();
            assertThat(exact.rawPromptTokens()).isEqualTo(TokenCounter.shared().count(TEXT)
                    + EstimatorSettings.defaults().generateOverhead());

            // The exact count calibrated the length-based estimate the next request gets at once.
            RequestEstimate next = s.estimate(request(TEXT), BodyShape.GENERATE);
            assertThat(next.promptExact()).isFalse();
            assertThat(Math.abs(next.rawPromptTokens() - exact.rawPromptTokens()))
                    .isLessThanOrEqualTo(Math.abs(quick.rawPromptTokens() - exact.rawPromptTokens()));
        }
    }

    @Test
    void aRequestCancelledBeforeItsCountKeepsItsEstimate() {
        List<Runnable> tokenizer = new ArrayList<>();
        try (Scheduling s = scheduling(tokenizer)) {
            PendingRequest p = request(TEXT);
            RequestEstimate quick = s.estimate(p, BodyShape.GENERATE);
            p.cancel();
            tokenizer.forEach(Runnable::run);
            assertThat(p.estimate()).isSameAs(quick);
        }
    }

    /** Production settings and the real tokenizer; what goes to the tokenizer thread lands in {@code tokenizer}. */
    private static Scheduling scheduling(List<Runnable> tokenizer) {
        return Scheduling.create(Fixtures.fleet("a:1:" + Fixtures.MODEL), SchedulerSettings.defaults(), "eft",
                CostHints.defaults(), EstimatorSettings.defaults(), TokenCounter.shared(), new Fixtures.Clock(), false,
                tokenizer::add);
    }

    private static PendingRequest request(String text) {
        InferenceRequest r = new InferenceRequest(Fixtures.MODEL, true, -1, null, text, 0, 0, "", false, 0);
        return Fixtures.pending(r, 0, 0, new Fixtures.Target());
    }
}
