package io.ollamabalancer.request;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A 1 MB body made almost entirely of a base64 image: parsed correctly, and without turning the image into a
 * string. The allocation check uses the JVM's per-thread allocation counter; an image materialised as a String
 * would cost at least its own size (plus jackson's char buffer, twice that again).
 */
class RequestJsonParserLargeBodyTest {
    private static final int IMAGE_BYTES = 768 * 1024; // ~1 MB once base64-encoded
    private final RequestJsonParser parser = new RequestJsonParser();

    private static String image(long seed) {
        byte[] raw = new byte[IMAGE_BYTES];
        new Random(seed).nextBytes(raw);
        return Base64.getEncoder().encodeToString(raw);
    }

    private static byte[] generateBody(String image) {
        return ("{\"model\":\"llava:7b\",\"prompt\":\"Describe this picture.\",\"images\":[\"" + image
                + "\"],\"stream\":false,\"options\":{\"num_predict\":256}}").getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void generateWithLargeImage() throws Exception {
        byte[] body = generateBody(image(1));
        assertThat(body.length).isGreaterThan(1_000_000);
        InferenceRequest r = parser.parse(body, 0, body.length, BodyShape.GENERATE);
        assertThat(r.model()).isEqualTo("llava:7b");
        assertThat(r.promptText()).isEqualTo("Describe this picture.");
        assertThat(r.imageCount()).isEqualTo(1);
        assertThat(r.stream()).isFalse();
        assertThat(r.maxOutputTokens()).isEqualTo(256);
    }

    @Test
    void chatAndOpenAiWithLargeImagesInDirectBuffers() throws Exception {
        String img = image(2);
        byte[] chat = ("{\"model\":\"llava\",\"messages\":[{\"role\":\"user\",\"content\":\"What is this?\","
                + "\"images\":[\"" + img + "\",\"" + img.substring(0, 1000) + "\"]}]}").getBytes(StandardCharsets.UTF_8);
        InferenceRequest r = parser.parse(direct(chat), BodyShape.CHAT);
        assertThat(r.imageCount()).isEqualTo(2);
        assertThat(r.promptText()).isEqualTo("What is this?");

        byte[] openAi = ("{\"model\":\"llava\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\","
                + "\"image_url\":{\"url\":\"data:image/png;base64," + img + "\"}},{\"type\":\"text\",\"text\":"
                + "\"What is this?\"}]}],\"max_tokens\":9}").getBytes(StandardCharsets.UTF_8);
        InferenceRequest o = parser.parse(direct(openAi), BodyShape.OPENAI_CHAT);
        assertThat(o.imageCount()).isEqualTo(1);
        assertThat(o.promptText()).isEqualTo("What is this?");
        assertThat(o.maxOutputTokens()).isEqualTo(9);
    }

    @Test
    void largePromptTextIsReadInFull() throws Exception {
        char[] words = new char[1_000_000];
        Arrays.fill(words, 'a');
        String prompt = new String(words);
        byte[] body = ("{\"model\":\"m\",\"prompt\":\"" + prompt + "\"}").getBytes(StandardCharsets.UTF_8);
        assertThat(parser.parse(body, 0, body.length, BodyShape.GENERATE).promptText()).isEqualTo(prompt);
    }

    @Test
    void skippedImageIsNotMaterialised() throws Exception {
        assumeTrue(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean);
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeTrue(threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled());
        byte[] heapBody = generateBody(image(3));
        ByteBuffer directBody = direct(heapBody);
        for (int i = 0; i < 5; i++) { // warm up: class loading and jackson's recycled buffers are not the point
            parser.parse(heapBody, 0, heapBody.length, BodyShape.GENERATE);
            parser.parse(directBody, BodyShape.GENERATE);
        }
        long thread = Thread.currentThread().getId();

        long before = threads.getThreadAllocatedBytes(thread);
        InferenceRequest r = parser.parse(heapBody, 0, heapBody.length, BodyShape.GENERATE);
        long heapAllocated = threads.getThreadAllocatedBytes(thread) - before;

        before = threads.getThreadAllocatedBytes(thread);
        InferenceRequest d = parser.parse(directBody, BodyShape.GENERATE);
        long directAllocated = threads.getThreadAllocatedBytes(thread) - before;

        assertThat(r.imageCount()).isEqualTo(1);
        assertThat(d).isEqualTo(r);
        assertThat(heapAllocated).as("bytes allocated parsing a heap body").isLessThan(heapBody.length / 4);
        assertThat(directAllocated).as("bytes allocated parsing a direct body").isLessThan(heapBody.length / 4);
    }

    private static ByteBuffer direct(byte[] bytes) {
        ByteBuffer b = ByteBuffer.allocateDirect(bytes.length);
        b.put(bytes).flip();
        return b;
    }
}
