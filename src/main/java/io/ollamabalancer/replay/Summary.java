package io.ollamabalancer.replay;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The figures of one run: end-to-end latency and time to first token (mean, p50, p99, seconds) over the completed
 * requests, errors, requests per backend, and the p99 queue wait of each priority. Immutable.
 *
 * @param label      policy (or {@code oracle}) and anything else that tells runs apart
 * @param completed  requests that completed
 * @param errors     requests that did not
 * @param perBackend completed requests per backend, by name
 * @param sendLagP99 p99 of how late requests were sent (real-socket replays: a busy client machine)
 */
public record Summary(String label, int completed, int errors, double e2eMean, double e2eP50, double e2eP99,
                      double ttftMean, double ttftP50, double ttftP99, double queueP99High, double queueP99Normal,
                      double queueP99Low, Map<String, Integer> perBackend, double sendLagP99) {

    public static Summary of(String label, List<Outcome> outcomes) {
        List<Outcome> ok = new ArrayList<>();
        Map<String, Integer> per = new TreeMap<>();
        for (Outcome o : outcomes) {
            if (o.ok()) {
                ok.add(o);
                per.merge(o.backend() == null ? "?" : o.backend(), 1, Integer::sum);
            }
        }
        double[] e2e = Stats.sorted(ok, Outcome::e2e);
        double[] ttft = Stats.sorted(ok, Outcome::ttft);
        return new Summary(label, ok.size(), outcomes.size() - ok.size(), Stats.mean(e2e),
                Stats.quantile(e2e, 0.5), Stats.quantile(e2e, 0.99), Stats.mean(ttft), Stats.quantile(ttft, 0.5),
                Stats.quantile(ttft, 0.99), queueP99(ok, "high"), queueP99(ok, "normal"), queueP99(ok, "low"),
                per, Stats.quantile(Stats.sorted(outcomes, Outcome::sendLag), 0.99));
    }

    private static double queueP99(List<Outcome> ok, String priority) {
        List<Outcome> of = ok.stream().filter(o -> o.priority().equals(priority)).toList();
        return Stats.quantile(Stats.sorted(of, Outcome::queue), 0.99);
    }
}
