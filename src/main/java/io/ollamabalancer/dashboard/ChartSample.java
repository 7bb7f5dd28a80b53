package io.ollamabalancer.dashboard;

/**
 * One second of the dashboard's charts. Immutable.
 *
 * @param epochSecond       the second the sample closes (wall clock)
 * @param requestsPerSecond requests that ended in the second
 * @param tokensPerSecond   tokens generated (from Ollama's final chunks) in the second
 * @param ttftP50Ms         median time to first byte of the requests that got one in the second (0 when none)
 * @param ttftP99Ms         their 99th percentile
 * @param waitP50Ms         median queue wait of the requests that left a queue in the second (0 when none)
 * @param waitP99Ms         their 99th percentile
 * @param queued            requests waiting in every queue at the end of the second
 */
public record ChartSample(long epochSecond, double requestsPerSecond, double tokensPerSecond, double ttftP50Ms,
                          double ttftP99Ms, double waitP50Ms, double waitP99Ms, int queued) {
}
