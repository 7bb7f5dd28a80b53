package io.ollamabalancer.metrics;

import org.HdrHistogram.EncodableHistogram;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogReader;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class LatencyDumpTest {
    private static final long T0 = 1_700_000_000_000L;
    private static final Pattern ROW = Pattern.compile(
            "^\\s*(\\d+\\.\\d{2,3})\\s+(\\d\\.\\d{12})\\s+(\\d+)(\\s+\\d+\\.\\d{2})?$");
    private static final Pattern FOOTER_COUNT = Pattern.compile("^#\\[Max\\s+=\\s+([\\d.]+), Total count\\s+=\\s+(\\d+)]$");

    private final AtomicLong clock = new AtomicLong(T0);
    private final LatencyRecorders recorders = new LatencyRecorders(clock::get, 200, 360);
    private final LatencyDump dump = new LatencyDump(recorders);

    /** One {@code # histogram:} section of a .hgrm dump. */
    record Section(String header, List<double[]> rows, double footerMax, long footerCount) {
        /** The value (ms) of the first row at or past {@code percentile} (0..1). */
        double valueAt(double percentile) {
            for (double[] r : rows) {
                if (r[1] >= percentile) {
                    return r[0];
                }
            }
            throw new AssertionError("no row at " + percentile);
        }
    }

    /** Parses the text dump strictly: every line is a header, the column legend, a row, a footer, or blank. */
    static Map<String, Section> parseHgrm(String text) {
        Map<String, Section> out = new LinkedHashMap<>();
        String header = null;
        List<double[]> rows = null;
        double max = -1;
        long count = -1;
        for (String line : text.split("\n", -1)) {
            if (line.startsWith("# histogram: ")) {
                header = line.substring("# histogram: ".length());
                assertThat(header).endsWith(" (milliseconds, microsecond resolution)");
                header = header.substring(0, header.length() - " (milliseconds, microsecond resolution)".length());
                rows = new ArrayList<>();
                continue;
            }
            if (line.isEmpty() || line.startsWith("# window: ") || line.startsWith("# no latency")) {
                continue;
            }
            assertThat(header).as("line outside a section: %s", line).isNotNull();
            if (line.trim().equals("Value     Percentile TotalCount 1/(1-Percentile)")) {
                continue;
            }
            Matcher m = ROW.matcher(line);
            if (m.matches()) {
                rows.add(new double[] {Double.parseDouble(m.group(1)), Double.parseDouble(m.group(2)),
                        Long.parseLong(m.group(3))});
                continue;
            }
            Matcher f = FOOTER_COUNT.matcher(line);
            if (f.matches()) {
                max = Double.parseDouble(f.group(1));
                count = Long.parseLong(f.group(2));
                out.put(header, new Section(header, rows, max, count));
                continue;
            }
            assertThat(line).as("unexpected line").matches("^#\\[(Mean|Buckets)\\s+=.*]$");
        }
        return out;
    }

    private static Map<String, List<String>> query(String... kv) {
        Map<String, List<String>> q = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            q.computeIfAbsent(kv[i], k -> new ArrayList<>()).add(kv[i + 1]);
        }
        return q;
    }

    @BeforeEach
    void traffic() {
        for (int i = 1; i <= 1000; i++) {
            recorders.requestCompleted(Traffic.ok(i, "llama3.2:1b", "b1", i));
        }
        for (int i = 1; i <= 100; i++) {
            recorders.requestCompleted(Traffic.ok(i, "qwen2:0.5b", "b2", 2000 + i));
        }
    }

    @Test
    void textDumpIsHgrmInMillisecondsPerHistogram() {
        Rendered r = dump.render(query());
        assertThat(r.contentType()).isEqualTo(Rendered.TEXT);
        Map<String, Section> sections = parseHgrm(r.bodyText());
        assertThat(sections).containsKeys("ttft", "ttft model=llama3.2:1b", "ttft model=qwen2:0.5b",
                "ttft backend=b1", "queue_wait", "overhead", "total");
        assertThat(sections).doesNotContainKey("token_gap");

        Section llama = sections.get("ttft model=llama3.2:1b");
        assertThat(llama.footerCount()).isEqualTo(1000);
        assertThat(llama.valueAt(0.5)).isCloseTo(500.0, within(5.0));
        // 1..1000 ms once each: every row's value is the rank its percentile names, to the 2 significant digits
        // per-label series keep (1 %).
        assertThat(llama.rows()).hasSizeGreaterThan(10);
        for (double[] row : llama.rows()) {
            double rank = Math.max(1, Math.ceil(row[1] * 1000 - 1e-9));
            assertThat(row[0]).as("row %s", row[1]).isCloseTo(rank, within(rank * 0.01 + 0.01));
            assertThat(row[2]).isCloseTo(rank, within(rank * 0.01 + 1));
        }
        assertThat(llama.footerMax()).isCloseTo(1000.0, within(10.0));
        double[] last = llama.rows().get(llama.rows().size() - 1);
        assertThat(last[1]).isEqualTo(1.0);
        assertThat((long) last[2]).isEqualTo(1000);

        Section all = sections.get("ttft");
        assertThat(all.footerCount()).isEqualTo(1100);
        assertThat(all.valueAt(0.95)).isGreaterThan(2000.0);
        assertThat(sections.get("ttft backend=b2").valueAt(0.0)).isCloseTo(2001.0, within(20.1));
    }

    @Test
    void nameFilterKeepsOneKind() {
        Map<String, Section> sections = parseHgrm(dump.render(query("name", "queue_wait")).bodyText());
        assertThat(sections.keySet()).allMatch(k -> k.startsWith("queue_wait"));
        assertThat(sections.get("queue_wait model=llama3.2:1b").valueAt(0.5)).isCloseTo(50.0, within(0.5));
        // 1000 values 0.1..100 ms and 100 values 200.1..210 ms: the 550th of 1100 is 55 ms.
        assertThat(sections.get("queue_wait").valueAt(0.5)).isCloseTo(55.0, within(0.06));
    }

    @Test
    void intervalWindowShowsOnlyTheLastCompletedInterval() {
        assertThat(dump.render(query("window", "interval")).bodyText()).contains("# no latency recorded");
        clock.addAndGet(10_000);
        recorders.rollInterval();
        recorders.requestCompleted(Traffic.ok(1, "llama3.2:1b", "b1", 7));
        clock.addAndGet(10_000);
        recorders.rollInterval();
        Map<String, Section> sections = parseHgrm(dump.render(query("window", "interval")).bodyText());
        assertThat(sections.get("ttft").footerCount()).isEqualTo(1);
        assertThat(sections.get("ttft").footerMax()).isCloseTo(7.0, within(0.01));
        // The cumulative view still has everything.
        assertThat(parseHgrm(dump.render(query()).bodyText()).get("ttft").footerCount()).isEqualTo(1101);
    }

    @Test
    void hlogRoundTripsThroughHdrHistogramsReader() throws Exception {
        clock.addAndGet(10_000);
        recorders.rollInterval();
        for (int i = 0; i < 30; i++) {
            recorders.tokenGap("llama3.2:1b", "b1", Traffic.ms(25));
        }
        clock.addAndGet(10_000);
        recorders.rollInterval();

        String hlog = dump.render(query("format", "hlog")).bodyText();
        assertThat(hlog).contains("#[StartTime: ", "#[BaseTime: ",
                "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"");
        Map<String, Long> counts = new HashMap<>();
        Map<String, Long> starts = new HashMap<>();
        HistogramLogReader reader = new HistogramLogReader(new ByteArrayInputStream(hlog.getBytes()));
        for (EncodableHistogram e = reader.nextIntervalHistogram(); e != null; e = reader.nextIntervalHistogram()) {
            Histogram h = (Histogram) e;
            counts.merge(h.getTag(), h.getTotalCount(), Long::sum);
            starts.put(h.getTag(), h.getStartTimeStamp());
        }
        reader.close();

        LatencySnapshot cumulative = recorders.snapshotNow();
        for (LatencySnapshot.Entry e : cumulative.entries()) {
            long expected = e.histogram().getTotalCount();
            assertThat(counts.getOrDefault(e.key().tag(), 0L)).as(e.key().tag()).isEqualTo(expected);
        }
        assertThat(counts).containsEntry("ttft{model=llama3.2:1b}", 1000L)
                .containsEntry("token_gap{backend=b1}", 30L);
        assertThat(starts.get("ttft")).isCloseTo(T0, org.assertj.core.api.Assertions.within(1L));
        assertThat(starts.get("token_gap")).isCloseTo(T0 + 10_000, org.assertj.core.api.Assertions.within(1L));

        String onlyLast = dump.render(query("format", "hlog", "window", "interval", "name", "token_gap"))
                .bodyText();
        long lines = onlyLast.lines().filter(l -> l.startsWith("Tag=")).count();
        assertThat(lines).isEqualTo(3);
        assertThat(onlyLast.lines().filter(l -> l.startsWith("Tag=")))
                .allMatch(l -> l.startsWith("Tag=token_gap,") || l.startsWith("Tag=token_gap{"));
        assertThat(dump.render(query("format", "hlog", "since", Long.toString(T0 + 10_000))).bodyText()
                .lines().filter(l -> l.startsWith("Tag=ttft"))).isEmpty();
    }

    @Test
    void awkwardModelNamesMakeValidTagsAndComeBack() throws Exception {
        recorders.requestCompleted(Traffic.ok(1, "my model,v2", "b 3", 12));
        clock.addAndGet(10_000);
        recorders.rollInterval();
        LatencySnapshot since = recorders.since(0);
        LatencySnapshot.Entry e = since.find(new SeriesKey(LatencyKind.TTFT, SeriesKey.MODEL, "my model,v2:latest"));
        assertThat(e).isNotNull();
        assertThat(e.histogram().getTotalCount()).isEqualTo(1);
        assertThat(dump.render(query("format", "hlog")).bodyText())
                .contains("Tag=ttft{model=my_model_v2:latest},", "Tag=ttft{backend=b_3},");
    }

    @Test
    @SuppressWarnings("unchecked")
    void jsonSummaryParses() throws Exception {
        Rendered r = dump.render(query("format", "json", "name", "ttft"));
        assertThat(r.contentType()).isEqualTo(Rendered.JSON);
        Map<String, Object> doc = JsonTree.object(r.body());
        assertThat(doc.get("window")).isEqualTo("cumulative");
        assertThat(doc.get("startMs")).isEqualTo(T0);
        List<Map<String, Object>> hs = (List<Map<String, Object>>) doc.get("histograms");
        assertThat(hs).allMatch(h -> h.get("name").equals("ttft") && h.get("unit").equals("ms"));
        Map<String, Object> llama = hs.stream()
                .filter(h -> "llama3.2:1b".equals(((Map<String, Object>) h.get("labels")).get("model")))
                .findFirst().orElseThrow();
        assertThat(llama.get("count")).isEqualTo(1000L);
        assertThat((Double) llama.get("mean")).isCloseTo(500.5, within(5.0));
        assertThat((Double) llama.get("p50")).isCloseTo(500.0, within(5.0));
        assertThat((Double) llama.get("p90")).isCloseTo(900.0, within(9.0));
        assertThat((Double) llama.get("p99")).isCloseTo(990.0, within(10.0));
        assertThat((Double) llama.get("p999")).isCloseTo(999.0, within(10.0));
        assertThat((Double) llama.get("max")).isCloseTo(1000.0, within(10.0));
        Map<String, Object> overall = hs.get(0);
        assertThat((Map<String, Object>) overall.get("labels")).isEmpty();
        assertThat(overall.get("count")).isEqualTo(1100L);
    }

    @Test
    void dumpRequestParsing() {
        assertThat(DumpRequest.parse(query())).isEqualTo(DumpRequest.DEFAULT);
        DumpRequest r = DumpRequest.parse(query("format", "JSON", "since", "123", "name", "ttft"));
        assertThat(r).isEqualTo(new DumpRequest(DumpRequest.Format.JSON, DumpRequest.Window.SINCE, 123,
                LatencyKind.TTFT));
        assertThat(DumpRequest.parse(query("window", "interval")).window()).isEqualTo(DumpRequest.Window.INTERVAL);
        assertThatThrownBy(() -> DumpRequest.parse(query("format", "xml")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("format");
        assertThatThrownBy(() -> DumpRequest.parse(query("window", "forever")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DumpRequest.parse(query("since", "yesterday")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DumpRequest.parse(query("window", "interval", "since", "5")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DumpRequest.parse(query("name", "latency")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ttft");
        assertThatThrownBy(() -> DumpRequest.parse(query("name", "ttft", "name", "total")))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
