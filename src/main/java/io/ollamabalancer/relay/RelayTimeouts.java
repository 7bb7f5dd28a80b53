package io.ollamabalancer.relay;

import io.ollamabalancer.schedule.Prediction;

import java.time.Duration;

/**
 * The deadlines of a proxied response. Immutable; shared by every exchange.
 *
 * <ul>
 *   <li><b>First byte</b>: from the request's sending to the backend's status line. For a request with a
 *       prediction (inference) it is {@value #SAFETY_FACTOR}× what the scheduler expected (queue time excluded: the
 *       load if cold, the prefill and, when the answer is not streamed, the whole generation, since Ollama sends its
 *       head only with the answer), never less than the floor {@code --first-byte-timeout}. Without a prediction it
 *       is the floor. A slow GPU producing a long non-streamed answer is therefore not cut; a dead one is.</li>
 *   <li><b>Stream idle</b>: once the head arrived, the longest the backend may send nothing while the balancer is
 *       reading ({@code --stream-idle-timeout}).</li>
 * </ul>
 * A zero duration switches that deadline off.
 *
 * @param firstByteFloor the least first-byte deadline (and the whole deadline without a prediction)
 * @param streamIdle     the longest silence after the head
 */
public record RelayTimeouts(Duration firstByteFloor, Duration streamIdle) {
    /** How many times the predicted time to the first byte a response may take before it is given up. */
    public static final int SAFETY_FACTOR = 4;

    /** The defaults: a 5-minute floor, 60 seconds of silence. */
    public static final RelayTimeouts DEFAULTS = new RelayTimeouts(Duration.ofMinutes(5), Duration.ofSeconds(60));

    /**
     * The first-byte deadline in nanoseconds for a request with this prediction ({@code null} when it has none), or
     * 0 when the deadline is off.
     */
    public long firstByteNanos(Prediction prediction, boolean streamed) {
        long floor = firstByteFloor.toNanos();
        if (floor <= 0) {
            return 0;
        }
        if (prediction == null) {
            return floor;
        }
        long expected = streamed ? prediction.upfrontNanos() : prediction.serviceNanos();
        long scaled = expected > Long.MAX_VALUE / SAFETY_FACTOR ? Long.MAX_VALUE : expected * SAFETY_FACTOR;
        return Math.max(floor, scaled);
    }

    /** The stream idle timeout in nanoseconds, 0 when off. */
    public long streamIdleNanos() {
        return streamIdle.toNanos();
    }
}
