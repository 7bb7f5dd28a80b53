package io.ollamabalancer.replay;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The figures of one run: end-to-end latency and time to first token (mean, p50, p99, seconds) over the completed
 * requests, errors, requests per backend, the p99 queue wait of each priority, the p99.9 queue wait of all, and the
 * model loads the run started per 100 completed requests. Immutable.
 *
 * <p>Loads per 100 requests: Σ {@link Outcome#loadsStarted()} × 100 ÷ completed requests, over the whole run and
 * over its steady state, the second half of the outcomes in the order given (trace order: the later half of the
 * arrivals), when the start state (which models are loaded where) no longer counts. NaN when no outcome of that
 * part reports its loads (real-socket runs, or a replay that does not count them).
 *
 * @param label             policy (or {@code oracle}) and anything else that tells runs apart
 * @param completed         requests that completed
 * @param errors            requests that did not
 * @param perBackend        completed requests per backend, by name
 * @param sendLagP99        p99 of how late requests were sent (real-socket replays: a busy client machine)
 * @param queueP999         p99.9 of the queue wait over every completed request, whatever its priority
 * @param loadsPer100       model loads started per 100 completed requests, whole run (NaN unknown)
 * @param loadsPer100Steady the same over the second half of the run (NaN unknown)
 */
public record Summary(String label, int completed, int errors, double e2eMean, double e2eP50, double e2eP99,
                      double ttftMean, double ttftP50, double ttftP99, double queueP99High, double queueP99Normal,
                      double queueP99Low, Map<String, Integer> perBackend, double sendLagP99, double queueP999,
                      double loadsPer100, double loadsPer100Steady) {

    /** A summary without the memory figures (all NaN). */
    public Summary(String label, int completed, int errors, double e2eMean, double e2eP50, double e2eP99,
                   double ttftMean, double ttftP50, double ttftP99, double queueP99High, double queueP99Normal,
                   double queueP99Low, Map<String, Integer> perBackend, double sendLagP99) {
        this(label, completed, errors, e2eMean, e2eP50, e2eP99, ttftMean, ttftP50, ttftP99, queueP99High,
                queueP99Normal, queueP99Low, perBackend, sendLagP99, Double.NaN, Double.NaN, Double.NaN);
    }

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
                per, Stats.quantile(Stats.sorted(outcomes, Outcome::sendLag), 0.99),
                Stats.quantile(Stats.sorted(ok, Outcome::queue), 0.999), loadsPer100(outcomes),
                loadsPer100(outcomes.subList(outcomes.size() / 2, outcomes.size())));
    }

    /** Σ loads started × 100 ÷ completed requests; NaN when none of {@code outcomes} reports its loads. */
    static double loadsPer100(List<Outcome> outcomes) {
        long loads = 0;
        int completed = 0;
        boolean known = false;
        for (Outcome o : outcomes) {
            if (o.loadsStarted() >= 0) {
                loads += o.loadsStarted();
                known = true;
            }
            if (o.ok()) {
                completed++;
            }
        }
        return known && completed > 0 ? loads * 100.0 / completed : Double.NaN;
    }

    private static double queueP99(List<Outcome> ok, String priority) {
        List<Outcome> of = ok.stream().filter(o -> o.priority().equals(priority)).toList();
        return Stats.quantile(Stats.sorted(of, Outcome::queue), 0.99);
    }
}
