package io.ollamabalancer.replay;

import io.ollamabalancer.request.BodyShape;
import io.ollamabalancer.schedule.Priority;

import java.nio.charset.StandardCharsets;

/**
 * One request of a {@link Trace}: when it is sent, where, with which body, and what the simulated fleet will answer
 * (the truth the oracle knows and the balancer does not). Immutable.
 *
 * @param id           position in the trace, from 0
 * @param at           send time, seconds from the start of the replay
 * @param route        {@code chat} ({@code /api/chat}) or {@code generate} ({@code /api/generate})
 * @param model        the model name as sent
 * @param priority     {@code high}, {@code normal} or {@code low}, sent as {@code X-Priority}
 * @param numPredict   the body's {@code options.num_predict}, or -1 when it has none
 * @param promptTokens what the simulator will report as {@code prompt_eval_count}
 * @param outputTokens what the simulator will report as {@code eval_count}
 * @param body         the exact JSON body (ASCII); the simulator seeds the answer with a hash of these bytes
 */
public record TraceRequest(int id, double at, String route, String model, String priority, int numPredict,
                           int promptTokens, int outputTokens, String body) {
    public static final String CHAT = "chat";
    public static final String GENERATE = "generate";

    public TraceRequest {
        if (!CHAT.equals(route) && !GENERATE.equals(route)) {
            throw new IllegalArgumentException("route must be chat or generate, not " + route);
        }
        if (!"high".equals(priority) && !"normal".equals(priority) && !"low".equals(priority)) {
            throw new IllegalArgumentException("priority must be high, normal or low, not " + priority);
        }
    }

    /** The request path on the balancer (or on Ollama). */
    public String path() {
        return CHAT.equals(route) ? "/api/chat" : "/api/generate";
    }

    /** How the balancer's parser reads the body. */
    public BodyShape shape() {
        return CHAT.equals(route) ? BodyShape.CHAT : BodyShape.GENERATE;
    }

    /** The scheduler's priority for the {@code X-Priority} value. */
    public int priorityValue() {
        return Priority.parse(priority);
    }

    public byte[] bodyBytes() {
        return body.getBytes(StandardCharsets.UTF_8);
    }

    /** The same request sent at {@code newAt}. */
    public TraceRequest at(double newAt) {
        return renumbered(id, newAt);
    }

    /** The same request with another id and send time. */
    public TraceRequest renumbered(int newId, double newAt) {
        return new TraceRequest(newId, newAt, route, model, priority, numPredict, promptTokens, outputTokens, body);
    }
}
