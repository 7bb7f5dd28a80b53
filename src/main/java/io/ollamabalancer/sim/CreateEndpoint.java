package io.ollamabalancer.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code POST /api/create}, as Ollama's {@code CreateHandler} answers it (server/create.go), for the two ways a client
 * makes a model without a registry:
 * <ul>
 *   <li>{@code files} (name → digest of an uploaded blob): each name is checked ({@code file path must be relative}),
 *       each digest's format ({@code invalid digest for <name>: invalid digest format}); a file whose name does not
 *       end in {@code .gguf} must exist (400 {@code blob not found for <name> (digest <d>): open <path>: no such file
 *       or directory}) and is typed by its magic bytes. Then, streamed, {@code parsing GGUF} for each file; a missing
 *       blob ends the stream with {@code open <path>: no such file or directory} (a 500 without streaming), a blob
 *       that is not GGUF with {@code invalid file magic}. Success installs the model.</li>
 *   <li>{@code from} an installed model: installed under the new name; an unknown one fails as a registry miss.</li>
 * </ul>
 * Neither gives 400 {@code neither 'from' or 'files' was specified}; {@code adapters} get 400 {@code LoRA adapters are
 * no longer supported}, as in current Ollama. Safetensors imports are not simulated. A created model is a completion
 * model of family {@code llama} with the blobs' total size. Stateless; runs on the event loop.
 */
final class CreateEndpoint {
    private static final String STRUCT = "CreateRequest";

    /** What the request leads to: progress lines, then success or an error with its status. */
    private static final class Outcome {
        final List<JsonOut.Body> progress = new ArrayList<>();
        String error;
        int errorStatus = 500;
        SimModel created;

        Outcome fail(int status, String message) {
            errorStatus = status;
            error = message;
            return this;
        }
    }

    void handle(SimExchange x) {
        Outcome o;
        boolean stream;
        try {
            RequestFields f = new RequestFields(JsonTree.parseObject(x.request().body(), "api.CreateRequest"), STRUCT);
            stream = f.bool("stream", true);
            o = plan(f, x.sim());
        } catch (BadRequestException e) {
            x.replyError(400, e.getMessage());
            return;
        }
        SimContext sim = x.sim();
        Runnable install = () -> {
            if (o.created != null) {
                sim.catalog().add(o.created, sim.now());
            }
        };
        if (o.error != null && (o.progress.isEmpty() || !stream)) {
            x.replyError(o.errorStatus, o.error);
            return;
        }
        if (!stream) {
            install.run();
            x.replyJson(200, ProgressStream.status("success"));
            return;
        }
        List<JsonOut.Body> steps = new ArrayList<>(o.progress);
        steps.add(o.error != null ? JsonOut.error(o.error) : ProgressStream.status("success"));
        new ProgressStream(x, steps, install).start();
    }

    private static Outcome plan(RequestFields f, SimContext sim) {
        Outcome o = new Outcome();
        Map<String, String> files = stringMap(f, "files");
        Map<String, String> adapters = stringMap(f, "adapters");
        for (Map.Entry<String, String> e : files.entrySet()) {
            String problem = fileProblem(e.getKey(), e.getValue());
            if (problem != null) {
                return o.fail(400, problem);
            }
        }
        if (!adapters.isEmpty()) {
            return o.fail(400, "LoRA adapters are no longer supported");
        }
        String name = f.string("model").isEmpty() ? f.string("name") : f.string("model");
        if (name.isBlank()) {
            return o.fail(400, "invalid model name");
        }
        String type = "";
        for (Map.Entry<String, String> e : files.entrySet()) {
            String t = fileType(e.getKey(), e.getValue(), sim.blobs());
            if (t == null) {
                return o.fail(400, "blob not found for " + e.getKey() + " (digest " + e.getValue() + "): "
                        + noSuchFile(e.getValue()));
            }
            if (!t.isEmpty() && !type.isEmpty() && !t.equals(type)) {
                return o.fail(400, "mixed model file types: found both " + type + " and " + t + " inputs");
            }
            type = t.isEmpty() ? type : t;
        }
        String from = f.string("from");
        if (type.equals("safetensors")) {
            return o.fail(400, "supplied file was not in GGUF format");
        }
        if (!from.isEmpty()) {
            return fromModel(o, name, from, sim);
        }
        if (!f.has("files")) {
            return o.fail(400, "neither 'from' or 'files' was specified");
        }
        if (type.isEmpty()) {
            return o.fail(400, "unknown type");
        }
        return fromBlobs(o, name, files, sim.blobs());
    }

    private static Outcome fromBlobs(Outcome o, String name, Map<String, String> files, BlobStore blobs) {
        long size = 0;
        List<String> used = new ArrayList<>();
        for (String digest : files.values()) {
            o.progress.add(ProgressStream.status("parsing GGUF"));
            BlobStore.Blob blob = blobs.find(digest);
            if (blob == null) {
                return o.fail(500, noSuchFile(digest));
            }
            if (!blob.isGguf()) {
                return o.fail(500, "invalid file magic");
            }
            size += blob.size();
            used.add(digest);
        }
        for (String digest : used) {
            o.progress.add(ProgressStream.status("using existing layer " + digest.replace('-', ':')));
        }
        o.progress.add(ProgressStream.status("writing manifest"));
        o.created = SimModel.completion(name, size, "llama", humanNumber(size), "Q8_0", false);
        return o;
    }

    private static Outcome fromModel(Outcome o, String name, String from, SimContext sim) {
        ModelRuntime base = sim.catalog().find(from);
        if (base == null) {
            o.progress.add(ProgressStream.status("pulling manifest"));
            return o.fail(500, PullEndpoint.MISSING);
        }
        SimModel m = base.model();
        o.progress.add(ProgressStream.status("using existing layer sha256:" + base.digest()));
        o.progress.add(ProgressStream.status("writing manifest"));
        o.created = new SimModel(name, m.sizeBytes(), m.family(), m.parameterSize(), m.quantization(),
                m.embeddingDims(), false);
        return o;
    }

    /** Ollama's {@code validateCreateFiles} for one entry; null when it passes. */
    private static String fileProblem(String path, String digest) {
        if (path.equals(".") || !validPath(path) || path.indexOf('\\') >= 0 || path.indexOf(':') >= 0) {
            return "file path must be relative: " + path;
        }
        if (digest.isEmpty()) {
            return "invalid digest format";
        }
        if (!BlobStore.valid(digest)) {
            return "invalid digest for " + path + ": invalid digest format";
        }
        return null;
    }

    /** Go's {@code fs.ValidPath}: unrooted, slash-separated, no empty, {@code .} or {@code ..} elements. */
    private static boolean validPath(String path) {
        if (path.equals(".")) {
            return true;
        }
        for (String element : path.split("/", -1)) {
            if (element.isEmpty() || element.equals(".") || element.equals("..")) {
                return false;
            }
        }
        return true;
    }

    /** {@code gguf} or {@code safetensors} by name, else by the blob's magic ({@code ""} if not GGUF); null if gone. */
    private static String fileType(String path, String digest, BlobStore blobs) {
        if (path.endsWith(".safetensors")) {
            return "safetensors";
        }
        if (path.endsWith(".gguf")) {
            return "gguf";
        }
        BlobStore.Blob blob = blobs.find(digest);
        if (blob == null) {
            return null;
        }
        return blob.isGguf() ? "gguf" : "";
    }

    private static String noSuchFile(String digest) {
        return "open " + BlobStore.path(digest) + ": no such file or directory";
    }

    /** A {@code map[string]string} field, sorted by key as Ollama walks it; empty when absent or null. */
    private static Map<String, String> stringMap(RequestFields f, String key) {
        Object raw = f.raw(key);
        Map<String, String> out = new TreeMap<>();
        if (raw == null) {
            return out;
        }
        if (!(raw instanceof Map<?, ?> m)) {
            throw f.mismatch(key, raw, "map[string]string");
        }
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getValue() instanceof String v)) {
                throw f.mismatch(key, e.getValue(), "string");
            }
            out.put((String) e.getKey(), v);
        }
        return out;
    }

    /** About Ollama's {@code format.HumanNumber} of a parameter count, taking one byte per parameter. */
    private static String humanNumber(long n) {
        if (n >= 1_000_000_000L) {
            return String.format(Locale.ROOT, "%.1fB", n / 1e9);
        }
        if (n >= 1_000_000L) {
            return String.format(Locale.ROOT, "%.0fM", n / 1e6);
        }
        return String.format(Locale.ROOT, "%.0fK", n / 1e3);
    }
}
