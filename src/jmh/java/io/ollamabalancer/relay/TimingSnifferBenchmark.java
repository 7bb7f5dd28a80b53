package io.ollamabalancer.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * What the relay reads of every streamed chunk (issue #11): the {@link TimingSniffer} looking for the final object's
 * timing fields and for error lines, fed one NDJSON line of the size Ollama streams per operation, and the final
 * line (with the timing fields it parses) once per thousand. The chunk is a direct buffer read in place, as the
 * upstream read gives it; the sniffer copies nothing of an ordinary line.
 *
 * <p>Not thread-safe: one benchmark thread per state. Buffers: the two lines are owned by the state and released at
 * tear-down.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx512m", "-Dio.netty.leakDetection.level=disabled"})
public class TimingSnifferBenchmark {
    private static final byte[] LINE = ("{\"model\":\"llama3.2:1b\",\"created_at\":\"2026-12-06T02:49:12.123456789Z\","
            + "\"response\":\" the\",\"done\":false}\n").getBytes(StandardCharsets.US_ASCII);
    private static final byte[] LAST = ("{\"model\":\"llama3.2:1b\",\"created_at\":\"2026-12-06T02:49:14.5Z\","
            + "\"response\":\"\",\"done\":true,\"done_reason\":\"stop\",\"context\":[1,2,3],"
            + "\"total_duration\":2345678901,\"load_duration\":12345678,\"prompt_eval_count\":26,"
            + "\"prompt_eval_duration\":123456789,\"eval_count\":298,\"eval_duration\":2198765432}\n")
            .getBytes(StandardCharsets.US_ASCII);

    private ByteBuf line;
    private ByteBuf last;
    private TimingSniffer sniffer;
    private int n;

    @Setup(Level.Iteration)
    public void open() {
        line = Unpooled.directBuffer(LINE.length).writeBytes(LINE);
        last = Unpooled.directBuffer(LAST.length).writeBytes(LAST);
        sniffer = new TimingSniffer();
    }

    @TearDown(Level.Iteration)
    public void close() {
        line.release();
        last.release();
    }

    @Benchmark
    public Object chunk() {
        if (++n == 1000) {
            n = 0;
            sniffer.feed(last);
            Object sample = sniffer.sample();
            sniffer = new TimingSniffer();
            return sample;
        }
        sniffer.feed(line);
        return sniffer;
    }
}
