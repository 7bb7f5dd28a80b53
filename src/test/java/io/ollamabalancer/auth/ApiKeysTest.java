package io.ollamabalancer.auth;

import io.ollamabalancer.estimate.TimingSample;
import io.ollamabalancer.metrics.CompletedRequest;
import io.ollamabalancer.metrics.Outcome;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class ApiKeysTest {
    private final AtomicLong now = new AtomicLong(-3_000_000_000_000L);

    private ApiKeys keys(String json) {
        return new ApiKeys(ApiKeysFile.parse(json.getBytes(StandardCharsets.UTF_8), "keys.json"), now::get);
    }

    private static CompletedRequest completed(long id, String key, int status, TimingSample t) {
        return new CompletedRequest(id, "generate", "m", "b1", status, 0, 0, 0, 0, t, 0, 0,
                status == 200 ? Outcome.OK : Outcome.ERROR, key);
    }

    @Test
    void findsAKeyByBearerHeaderOnlyAndCountsTheRestUnauthorized() {
        ApiKeys k = keys("{\"keys\": [{\"name\": \"a\", \"key\": \"sk-a\"}, {\"name\": \"b\", \"key\": \"sha256:"
                + ApiKeysFileTest.sha256Hex("sk-b") + "\"}]}");
        assertThat(k.authenticate("Bearer sk-a").name()).isEqualTo("a");
        assertThat(k.authenticate("bearer  sk-b ").name()).isEqualTo("b");
        assertThat(k.authenticate(null)).isNull();
        assertThat(k.authenticate("Bearer ")).isNull();
        assertThat(k.authenticate("Basic c2stYQ==")).isNull();
        assertThat(k.authenticate("Bearer sk-c")).isNull();
        assertThat(k.authenticate("sk-a")).isNull();
        assertThat(k.unauthorized().total()).isEqualTo(5);
    }

    @Test
    void limitsRefuseWithTheirReasonAndTakeNothingWhenRefused() {
        ApiKeys k = keys("{\"keys\": [{\"name\": \"a\", \"key\": \"sk-a\", \"requestsPerMinute\": 2, "
                + "\"maxConcurrent\": 1, \"models\": [\"llama*\"]}]}");
        KeyState a = k.authenticate("Bearer sk-a");
        assertThat(k.admit(a, "qwen:7b", 0, 1).refusal()).isEqualTo(Refusal.MODEL_NOT_ALLOWED);
        Admission first = k.admit(a, "llama3.2:1b", 0, 2);
        assertThat(first.admitted()).isTrue();
        Admission second = k.admit(a, "llama3.2:1b", 0, 3);
        assertThat(second.refusal()).isEqualTo(Refusal.OVER_CONCURRENCY);
        first.release();
        first.release(); // only the first call counts
        assertThat(a.inFlight()).isZero();
        Admission third = k.admit(a, "llama3.2:1b", 0, 4);
        assertThat(third.admitted()).isTrue();
        third.release();
        Admission fourth = k.admit(a, "llama3.2:1b", 0, 5);
        assertThat(fourth.refusal()).isEqualTo(Refusal.OVER_RPM);
        assertThat(fourth.retryAfterSeconds()).isEqualTo(30); // 2 a minute: one every 30 s
        assertThat(fourth.message()).contains("'a'").contains("2 requests per minute");
        assertThat(a.inFlight()).isZero();
        assertThat(k.rejected().get("a", "over_rpm")).isEqualTo(1);
        assertThat(k.rejected().get("a", "over_concurrency")).isEqualTo(1);
        assertThat(k.rejected().get("a", "model_not_allowed")).isEqualTo(1);
        assertThat(k.requests().get("a")).isEqualTo(2);
    }

    @Test
    void tokensChargedAtAdmissionAreCorrectedByTheRealCounts() {
        ApiKeys k = keys("{\"keys\": [{\"name\": \"a\", \"key\": \"sk-a\", \"tokensPerMinute\": 1000}]}");
        KeyState a = k.authenticate("Bearer sk-a");
        Admission one = k.admit(a, "m", 300, 1);
        assertThat(a.tokens().level()).isEqualTo(700.0);
        // The real prompt was 250 tokens and 450 were generated: 700 in all, 400 more than charged.
        k.requestCompleted(completed(1, "a", 200, new TimingSample(250, 1, 450, 1, 0, 1)));
        one.release();
        assertThat(a.tokens().level()).isEqualTo(300.0);
        assertThat(k.promptTokens().get("a")).isEqualTo(250);
        assertThat(k.generatedTokens().get("a")).isEqualTo(450);
        // A request that failed before any count gets its charge back.
        Admission two = k.admit(a, "m", 200, 2);
        k.requestCompleted(completed(2, "a", 502, TimingSample.EMPTY));
        two.release();
        assertThat(a.tokens().level()).isEqualTo(300.0);
        // Over the bucket: refused with the wait until the ask fits (500 tokens at 1000 a minute: 30 s).
        Admission three = k.admit(a, "m", 800, 3);
        assertThat(three.refusal()).isEqualTo(Refusal.OVER_TPM);
        assertThat(three.retryAfterSeconds()).isEqualTo(30);
    }

    @Test
    void aReloadKeepsTheStateOfUnchangedKeysAndDropsRemovedOnes() {
        ApiKeys k = keys("{\"keys\": [{\"name\": \"a\", \"key\": \"sk-a\", \"requestsPerMinute\": 1}, "
                + "{\"name\": \"b\", \"key\": \"sk-b\"}]}");
        KeyState a = k.authenticate("Bearer sk-a");
        assertThat(k.admit(a, null, 0, 1).admitted()).isTrue();
        k.replace(List.of(a.key()));
        assertThat(k.authenticate("Bearer sk-b")).isNull();
        KeyState again = k.authenticate("Bearer sk-a");
        assertThat(again).isSameAs(a);
        assertThat(k.admit(again, null, 0, 2).refusal()).isEqualTo(Refusal.OVER_RPM);
    }
}
