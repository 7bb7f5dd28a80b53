package io.ollamabalancer.replay;

import io.ollamabalancer.sim.OllamaSimulator;
import io.ollamabalancer.sim.SimulatorConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static io.ollamabalancer.replay.ReplayFixtures.LLAMA;
import static io.ollamabalancer.replay.ReplayFixtures.QWEN;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The one real-socket test of the replay: a trace replayed straight at a running simulator (no balancer, so no
 * X-Balancer headers). It proves that {@link SimAnswers} predicts what the simulator really answers (the ground
 * truth of the discrete-event replay and the oracle), that streaming is timed per request, and that failures are
 * recorded rather than lost.
 */
class ReplayClientTest {
    private OllamaSimulator sim;

    @AfterEach
    void stop() {
        if (sim != null) {
            sim.close();
        }
    }

    @Test
    void replaysATraceAndTheSimulatorAnswersExactlyAsPredicted() throws Exception {
        SimulatorConfig config = SimulatorConfig.builder().name("sim").seed(7).meanOutputTokens(150)
                .maxOutputTokens(2048).decodeTokensPerSecond(6000).prefillTokensPerSecond(200_000).slots(4)
                .decodeSlowdown(0).jitter(0.1).keepAliveMillis(-1)
                .models(List.of(ReplayFixtures.model(LLAMA, true), ReplayFixtures.model(QWEN, true))).build();
        sim = OllamaSimulator.start(config);
        SimAnswers answers = SimAnswers.of(List.of(config));
        Trace generated = TraceGenerator.generate("real", 21, ReplayFixtures.shape(24).withPriorities(0.3, 0.3),
                answers).atRate("real", 40);
        List<TraceRequest> requests = new ArrayList<>(generated.requests());
        TraceRequest last = requests.remove(requests.size() - 1);
        String unknown = last.body().replace(last.model(), "no-such-model:7b");
        requests.add(new TraceRequest(last.id(), last.at(), last.route(), "no-such-model:7b", last.priority(), -1, 0,
                0, unknown));
        Trace trace = new Trace("real", 21, 40, requests);

        List<Outcome> outcomes;
        try (ReplayClient client = new ReplayClient(URI.create(sim.baseUrl()), Duration.ofSeconds(20))) {
            outcomes = client.replay(trace, Duration.ofSeconds(20));
        }

        assertThat(outcomes).hasSize(24);
        for (int i = 0; i < 23; i++) {
            Outcome o = outcomes.get(i);
            TraceRequest r = trace.requests().get(i);
            assertThat(o.error()).as("request %d", i).isNull();
            assertThat(o.id()).isEqualTo(r.id());
            assertThat(o.priority()).isEqualTo(r.priority());
            assertThat(o.evalCount()).as("eval_count of %d", i).isEqualTo(r.outputTokens());
            assertThat(o.promptEvalCount()).as("prompt_eval_count of %d", i).isEqualTo(r.promptTokens());
            assertThat(o.ttft()).isPositive().isLessThanOrEqualTo(o.e2e());
            // no balancer in front: its headers are absent
            assertThat(o.backend()).isNull();
            assertThat(o.queue()).isEqualTo(-1);
            assertThat(o.estimatedPromptTokens()).isEqualTo(-1);
            // warm models: the simulator reports a load_duration of a few milliseconds; loads are not counted here
            assertThat(o.loadSeconds()).as("load_duration of %d", i).isGreaterThan(0).isLessThan(0.1);
            assertThat(o.loadsStarted()).isEqualTo(-1);
        }
        Outcome missing = outcomes.get(23);
        assertThat(missing.ok()).isFalse();
        assertThat(missing.error()).startsWith("HTTP 404").contains("not found");
        Summary s = Summary.of("real", outcomes);
        assertThat(s.completed()).isEqualTo(23);
        assertThat(s.errors()).isEqualTo(1);
    }

    @Test
    void aFinalLineIsReadForItsCountsOrItsError() {
        assertThat(ReplayClient.parseFinal("{\"done\":true,\"prompt_eval_count\":12,\"eval_count\":34,"
                + "\"message\":{\"role\":\"assistant\",\"content\":\"\"}}").toString())
                .contains("done=true").contains("promptEvalCount=12").contains("evalCount=34");
        assertThat(ReplayClient.parseFinal("{\"error\":\"an error was encountered while running the model\"}")
                .error()).contains("running the model");
        assertThat(ReplayClient.parseFinal("{\"done\":false}").done()).isFalse();
        assertThat(ReplayClient.parseFinal("{\"done\":true,\"load_duration\":8002500000,\"eval_count\":3}")
                .loadDurationNanos()).isEqualTo(8_002_500_000L);
        assertThat(ReplayClient.parseFinal("{\"done\":true,\"eval_count\":3}").loadDurationNanos()).isEqualTo(-1);
        assertThat(ReplayClient.parseFinal("garbage").error()).contains("garbage");
    }
}
