package io.ollamabalancer.metrics;

import io.ollamabalancer.backend.ModelNames;
import org.HdrHistogram.Histogram;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * The balancer's latency histograms and request counters: what the request path reports through
 * {@link RequestObserver}, kept as HdrHistogram {@code Recorder}s over all requests, per model and per backend.
 *
 * <h2>Assumptions and guarantees</h2>
 * <ul>
 *   <li>{@link #requestCompleted}, {@link #tokenGaps} and the {@link TokenGaps} it returns may be called from any
 *       number of threads; they take no lock of ours and, once a label has been seen, allocate nothing but the
 *       counters' key and one {@link TokenGaps} per response. A token gap costs three recordings: its series are
 *       resolved once per response, and each event loop records token gaps into its own single-writer recorders
 *       (no shared atomic per chunk).</li>
 *   <li>Durations are kept in microseconds (3 significant digits, clamped at one hour); negative ones are stages
 *       that never happened and are skipped.</li>
 *   <li>At most {@code maxLabels} distinct models and as many backends get their own histograms and counters; the
 *       rest share the label {@code other}. Model names are normalised ({@link ModelNames#normalize}); a request
 *       answered 400 or 404 never admits a new model label (its model may be made up).</li>
 *   <li>{@link #rollInterval} (called by {@link LatencyReporter} every period) ends the current interval: it becomes
 *       the "last interval" and is appended to the in-memory hlog. {@link #snapshotNow} only folds what was
 *       recorded so far into the cumulative histograms; it does not end the interval, so readers never shorten or
 *       reset each other's view. Both serialise on one roll lock, never taken by the request path.</li>
 *   <li>Every snapshot hands out private copies.</li>
 * </ul>
 */
public final class LatencyRecorders implements RequestObserver {
    public static final int DEFAULT_MAX_LABELS = 64;
    public static final int DEFAULT_KEPT_INTERVALS = 360;
    static final long HLOG_MAX_BYTES = 16L << 20;
    private static final int MAX_COUNTER_SERIES = 10_000;
    private static final LatencyKind[] KINDS = LatencyKind.values();

    private final LongSupplier clockMillis;
    private final long startedMs;
    private final LabelBound models;
    private final LabelBound backends;
    private final LatencySeries[] overall = new LatencySeries[KINDS.length];
    private final ConcurrentHashMap<String, LatencySeries[]> byModel = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, LatencySeries[]> byBackend = new ConcurrentHashMap<>();
    private final Map<String, SeriesKey> keysByTag = new ConcurrentHashMap<>();
    private final RequestCounters counters = new RequestCounters(MAX_COUNTER_SERIES);
    private final HlogBuffer hlog;
    private final Object rollLock = new Object();
    private long intervalStartMs; // guarded by rollLock
    private volatile long lastIntervalStartMs;
    private volatile long lastIntervalEndMs;

    /** Wall clock, {@value #DEFAULT_MAX_LABELS} labels per dimension, {@value #DEFAULT_KEPT_INTERVALS} intervals. */
    public LatencyRecorders() {
        this(System::currentTimeMillis, DEFAULT_MAX_LABELS, DEFAULT_KEPT_INTERVALS);
    }

    /**
     * @param clockMillis    epoch milliseconds, for interval time stamps and uptime
     * @param maxLabels      distinct models (and, separately, backends) with their own series
     * @param keptIntervals  non-empty intervals kept in the hlog buffer
     */
    public LatencyRecorders(LongSupplier clockMillis, int maxLabels, int keptIntervals) {
        this.clockMillis = clockMillis;
        this.startedMs = clockMillis.getAsLong();
        this.intervalStartMs = startedMs;
        this.models = new LabelBound(maxLabels, ModelNames::normalize);
        this.backends = new LabelBound(maxLabels, UnaryOperator.identity());
        this.hlog = new HlogBuffer(startedMs, keptIntervals, HLOG_MAX_BYTES);
        for (LatencyKind k : KINDS) {
            overall[k.ordinal()] = newSeries(SeriesKey.overall(k), false);
        }
    }

    @Override
    public void requestCompleted(CompletedRequest r) {
        // A rejected request's model may be any string a client made up: it must not take a label place.
        String model = r.status() == 400 || r.status() == 404 ? models.existing(r.model()) : models.admit(r.model());
        String backend = backends.admit(r.backend());
        LatencySeries[] m = group(byModel, SeriesKey.MODEL, model);
        LatencySeries[] b = group(byBackend, SeriesKey.BACKEND, backend);
        record(LatencyKind.QUEUE_WAIT, r.queueWaitNs(), m, b);
        record(LatencyKind.OVERHEAD, r.overheadNs(), m, b);
        record(LatencyKind.TTFT, r.ttftNs(), m, b);
        record(LatencyKind.TOTAL, r.totalNs(), m, b);
        counters.count(r, model, backend);
    }

    @Override
    public TokenGaps tokenGaps(String model, String backend) {
        int i = LatencyKind.TOKEN_GAP.ordinal();
        LatencySeries[] m = group(byModel, SeriesKey.MODEL, models.admit(model));
        LatencySeries[] b = group(byBackend, SeriesKey.BACKEND, backends.admit(backend));
        return new GapSeries(overall[i], m == null ? null : m[i], b == null ? null : b[i]);
    }

    /** One response's token-gap series: overall, its model's and its backend's (either may be absent). */
    private record GapSeries(LatencySeries overall, LatencySeries model, LatencySeries backend) implements TokenGaps {
        @Override
        public void record(long gapNanos) {
            if (gapNanos < 0) {
                return;
            }
            overall.recordNanos(gapNanos);
            if (model != null) {
                model.recordNanos(gapNanos);
            }
            if (backend != null) {
                backend.recordNanos(gapNanos);
            }
        }
    }

    private void record(LatencyKind kind, long nanos, LatencySeries[] model, LatencySeries[] backend) {
        if (nanos < 0) {
            return;
        }
        int i = kind.ordinal();
        overall[i].recordNanos(nanos);
        if (model != null) {
            model[i].recordNanos(nanos);
        }
        if (backend != null) {
            backend[i].recordNanos(nanos);
        }
    }

    private LatencySeries[] group(ConcurrentHashMap<String, LatencySeries[]> map, String labelName, String label) {
        if (label.isEmpty()) {
            return null;
        }
        LatencySeries[] g = map.get(label);
        if (g != null) {
            return g;
        }
        return map.computeIfAbsent(label, l -> {
            LatencySeries[] fresh = new LatencySeries[KINDS.length];
            for (LatencyKind k : KINDS) {
                fresh[k.ordinal()] = newSeries(new SeriesKey(k, labelName, l), true);
            }
            return fresh;
        });
    }

    private LatencySeries newSeries(SeriesKey key, boolean perLabel) {
        keysByTag.put(key.tag(), key);
        // Token gaps are recorded per streamed chunk, by every event loop: each gets its own recorder there.
        return new LatencySeries(key, perLabel, key.kind() == LatencyKind.TOKEN_GAP);
    }

    /**
     * Folds everything recorded so far into the cumulative histograms and returns them (fresh counts for
     * {@code /metrics} and the dump). Does not end the current interval.
     */
    public LatencySnapshot snapshotNow() {
        List<LatencySeries> all = allSeries();
        List<LatencySnapshot.Entry> entries = new ArrayList<>(all.size());
        long now;
        synchronized (rollLock) {
            now = clockMillis.getAsLong();
            for (LatencySeries s : all) {
                s.flush();
                entries.add(new LatencySnapshot.Entry(s.key(), s.cumulativeCopy(), s.sumMicros()));
            }
        }
        return new LatencySnapshot("cumulative", startedMs, now, entries);
    }

    /**
     * Folds everything recorded so far into the cumulative histograms and summarises each (count, sum, the values at
     * {@code quantiles}, fractions) without copying any: what a scrape needs. Ordered as {@link #snapshotNow}.
     */
    public List<LatencySummary> summariesNow(double[] quantiles) {
        List<LatencySeries> all = allSeries();
        List<LatencySummary> out = new ArrayList<>(all.size());
        synchronized (rollLock) {
            for (LatencySeries s : all) {
                s.flush();
                out.add(s.summary(quantiles));
            }
        }
        return out;
    }

    /** Ends the current interval: publishes it as the last interval and appends it to the hlog buffer. */
    public void rollInterval() {
        List<LatencySeries> all = allSeries();
        synchronized (rollLock) {
            long start = intervalStartMs;
            long end = Math.max(start, clockMillis.getAsLong());
            List<Histogram> done = new ArrayList<>();
            for (LatencySeries s : all) {
                Histogram h = s.completeInterval(start, end);
                if (h != null) {
                    done.add(h);
                }
            }
            hlog.append(start, end, done);
            intervalStartMs = end;
            lastIntervalStartMs = start;
            lastIntervalEndMs = end;
        }
    }

    /**
     * The overall series of {@code kind} since the previous call: how many values and their median and p99. Meant
     * for one periodic reader (the dashboard's sampler); costs one flush of one series under the roll lock, and
     * nothing on the request path.
     */
    public RecentLatency recent(LatencyKind kind) {
        LatencySeries s = overall[kind.ordinal()];
        synchronized (rollLock) {
            return s.takeRecent();
        }
    }

    /** The last completed interval (empty, with start 0, before the first roll). */
    public LatencySnapshot lastInterval() {
        List<LatencySnapshot.Entry> entries = new ArrayList<>();
        long start;
        long end;
        synchronized (rollLock) {
            start = lastIntervalStartMs;
            end = lastIntervalEndMs;
            for (LatencySeries s : allSeries()) {
                Histogram h = s.lastInterval();
                if (h != null) {
                    entries.add(new LatencySnapshot.Entry(s.key(), h, -1));
                }
            }
        }
        return new LatencySnapshot("interval", start, end, entries);
    }

    /** Epoch milliseconds at which the last completed interval started (0 before the first roll). */
    public long lastIntervalStartMillis() {
        return lastIntervalStartMs;
    }

    /** The kept intervals ending after {@code sinceMs}, merged per histogram. */
    public LatencySnapshot since(long sinceMs) {
        long[] window = new long[2];
        Map<String, Histogram> merged = hlog.mergeSince(sinceMs, window);
        List<LatencySnapshot.Entry> entries = new ArrayList<>(merged.size());
        for (Map.Entry<String, Histogram> e : merged.entrySet()) {
            SeriesKey key = keysByTag.get(e.getKey());
            if (key != null) {
                entries.add(new LatencySnapshot.Entry(key, e.getValue(), -1));
            }
        }
        entries.sort(Comparator.comparing(LatencySnapshot.Entry::key, LatencyRecorders::compareKeys));
        return new LatencySnapshot("since", window[0], window[1], entries);
    }

    /** The hlog text of the kept intervals ending after {@code sinceMs} whose tags pass the filter. */
    public String hlog(long sinceMs, Predicate<String> tagFilter) {
        return hlog.render(sinceMs, tagFilter);
    }

    /** How many non-empty intervals the hlog buffer holds. */
    public int keptIntervals() {
        return hlog.intervals();
    }

    public RequestCounters counters() {
        return counters;
    }

    public long startedAtMillis() {
        return startedMs;
    }

    public long uptimeMillis() {
        return Math.max(0, clockMillis.getAsLong() - startedMs);
    }

    /** Distinct model labels admitted so far (not counting {@code other}). */
    public int modelLabels() {
        return models.admittedCount();
    }

    /** Distinct backend labels admitted so far (not counting {@code other}). */
    public int backendLabels() {
        return backends.admittedCount();
    }

    /** Every series in rendering order: by kind, then overall, models, backends, labels sorted. */
    private List<LatencySeries> allSeries() {
        Map<String, LatencySeries[]> m = new TreeMap<>(byModel);
        Map<String, LatencySeries[]> b = new TreeMap<>(byBackend);
        List<LatencySeries> out = new ArrayList<>(KINDS.length * (1 + m.size() + b.size()));
        for (LatencyKind k : KINDS) {
            int i = k.ordinal();
            out.add(overall[i]);
            for (LatencySeries[] g : m.values()) {
                out.add(g[i]);
            }
            for (LatencySeries[] g : b.values()) {
                out.add(g[i]);
            }
        }
        return out;
    }

    private static int compareKeys(SeriesKey a, SeriesKey b) {
        int c = a.kind().compareTo(b.kind());
        if (c != 0) {
            return c;
        }
        c = Integer.compare(scopeRank(a), scopeRank(b));
        return c != 0 ? c : a.labelValue().compareTo(b.labelValue());
    }

    private static int scopeRank(SeriesKey k) {
        return k.isOverall() ? 0 : SeriesKey.MODEL.equals(k.labelName()) ? 1 : 2;
    }
}
