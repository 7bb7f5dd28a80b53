package io.ollamabalancer.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackendsFileTest {
    private static final String FILE = "containers.config.json";

    private static BackendsFile.Loaded parse(String json) {
        return BackendsFile.parse(json.getBytes(StandardCharsets.UTF_8), FILE, 2);
    }

    private static void assertError(String json, String message) {
        assertThatThrownBy(() -> parse(json)).isInstanceOf(ConfigException.class).hasMessage(message);
    }

    /** Turns 'single quotes' into JSON's double quotes so the cases stay readable. */
    private static String q(String s) {
        return s.replace('\'', '"');
    }

    @Test
    void readsTheOriginalPlainFormat() {
        BackendsFile.Loaded l = parse(q("[{'name':'ollama-1','url':'http://localhost:11434'},"
                + "{'name':'ollama-2','url':'http://localhost:11435/'}]"));
        assertThat(l.backends()).containsExactly(
                new BackendConfig("ollama-1", URI.create("http://localhost:11434"), 2, null, true),
                new BackendConfig("ollama-2", URI.create("http://localhost:11435/"), 2, null, true));
        assertThat(l.warnings()).isEmpty();
    }

    @Test
    void httpsBackendsAreReachedOverTlsOnPort443ByDefault() {
        BackendsFile.Loaded l = parse(q("[{'name':'a','url':'https://gpu.example.com'},"
                + "{'name':'b','url':'HTTPS://gpu.example.com:8443/ollama'},{'name':'c','url':'http://h:1'}]"));
        assertThat(l.backends()).extracting(BackendConfig::tls).containsExactly(true, true, false);
        assertThat(l.backends()).extracting(BackendConfig::port).containsExactly(443, 8443, 1);
        assertThat(l.backends().get(1).pathPrefix()).isEqualTo("/ollama");
    }

    @Test
    void readsTheObjectFormatWithOptionalFields() {
        BackendsFile.Loaded l = parse(q("""
                // comments are allowed
                {
                  "backends": [
                    {"name": "gpu", "url": "http://10.0.0.5:11434", "maxConcurrency": 4,
                     "models": ["llama3.2:1b", "all-minilm", "llama3.2:1b"], "enabled": true},
                    {"name": "cpu", "url": "http://cpu.local:11434/ollama", "enabled": false,
                     "models": null, "maxConcurrency": null}
                  ]
                }
                """));
        assertThat(l.backends()).containsExactly(
                new BackendConfig("gpu", URI.create("http://10.0.0.5:11434"), 4, List.of("llama3.2:1b",
                        "all-minilm"), true),
                new BackendConfig("cpu", URI.create("http://cpu.local:11434/ollama"), 2, null, false));
        assertThat(l.backends().get(1).pathPrefix()).isEqualTo("/ollama");
        assertThat(l.warnings()).isEmpty();
    }

    @Test
    void memoryLimitsAreOptional() {
        BackendsFile.Loaded l = parse(q("[{'name':'a','url':'http://h:1','maxLoadedModels':2,'vram':'24GB'},"
                + "{'name':'b','url':'http://h:2','vram':17179869184},"
                + "{'name':'c','url':'http://h:3','maxLoadedModels':null,'vram':null}]"));
        assertThat(l.backends()).containsExactly(
                new BackendConfig("a", URI.create("http://h:1"), 2, null, true, 2, 24L << 30),
                new BackendConfig("b", URI.create("http://h:2"), 2, null, true, 0, 16L << 30),
                new BackendConfig("c", URI.create("http://h:3"), 2, null, true, 0, 0));
        assertThat(l.warnings()).isEmpty();
    }

    @Test
    void unknownFieldsAreIgnoredWithAWarning() {
        BackendsFile.Loaded l = parse(q("{'version': 2, 'backends': [{'name':'a','url':'http://h:1',"
                + "'weight': {'x': [1, 2]}, 'tags': ['t']}]}"));
        assertThat(l.backends()).extracting(BackendConfig::name).containsExactly("a");
        assertThat(l.warnings()).containsExactly(
                FILE + ": unknown field \"version\" ignored",
                FILE + ": backend \"a\": unknown field \"weight\" ignored",
                FILE + ": backend \"a\": unknown field \"tags\" ignored");
    }

    @Test
    void otherWarnings() {
        BackendsFile.Loaded l = parse(q("[{'name':'a','url':'http://h'},{'name':'b','url':'http://H:80',"
                + "'enabled':false,'models':[]}]"));
        assertThat(l.warnings()).containsExactly(
                FILE + ": backend \"a\": url \"http://h\" has no port, using 80 (Ollama listens on 11434)",
                FILE + ": backend \"b\": \"models\" is empty, so it gets no model requests (omit it to ask /api/tags)",
                FILE + ": backends \"a\" and \"b\" have the same url http://H:80");
        BackendsFile.Loaded off = parse(q("[{'name':'a','url':'http://h:1','enabled':false}]"));
        assertThat(off.warnings()).containsExactly(FILE + ": every backend is disabled");
    }

    @Test
    void syntaxErrorsGiveLineAndColumn() {
        assertError("[\n  {\"name\": \"a\",\n    \"url\": \"http://x:1\",}\n]",
                FILE + ": invalid JSON at line 3, column 25: Unexpected character ('}' (code 125)): was expecting"
                        + " double-quote to start field name");
        assertError("[\n  {\"name\": \"a\", \"url\": \"http://x:1\"}",
                FILE + ": invalid JSON at line 2, column 37: Unexpected end-of-input: expected close marker for"
                        + " Array (start marker at (line 1, column 1))");
        assertError(q("[{'name': 'a', 'url': tru}]"),
                FILE + ": invalid JSON at line 1, column 27: Unrecognized token 'tru': was expecting (JSON String,"
                        + " Number, Array, Object or token 'null', 'true' or 'false')");
        assertError(q("[{'name': 'a', 'name': 'b'}]"),
                FILE + ": invalid JSON at line 1, column 22: Duplicate field 'name'");
        assertError("[] []", FILE + ": found an array after the end of the document at line 1, column 4");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "empty file         | ``                                     | no backends defined (the file is empty)",
        "empty array        | []                                     | no backends defined",
        "empty backends     | {'backends': []}                       | no backends defined",
        "no backends key    | {'servers': []}                        | no backends defined (expected a \"backends\" array)",
        "backends not array | {'backends': {}}                       | \"backends\" must be an array, found an object",
        "top-level string   | 'x'                                    | expected an array of backends or an object with a \"backends\" array, found a string",
        "entry not object   | [{'name':'a','url':'http://h:1'}, 7]   | backend #2: expected an object with \"name\" and \"url\", found a number",
        "missing name       | [{'url':'http://h:1'}]                 | backend #1: missing \"name\"",
        "null name          | [{'name':null,'url':'http://h:1'}]     | backend #1: missing \"name\"",
        "name not string    | [{'name':5,'url':'http://h:1'}]        | backend #1: \"name\" must be a string, found a number",
        "blank name         | [{'name':' ','url':'http://h:1'}]      | backend #1: \"name\" must not be empty",
        "padded name        | [{'name':' a','url':'http://h:1'}]     | backend #1: name \"a\" must not have surrounding spaces or control characters",
        "duplicate name     | [{'name':'gpu-1','url':'http://h:1'},{'name':'gpu-1','url':'http://h:2'}] | backend #2: duplicate name \"gpu-1\" (also backend #1)",
        "missing url        | [{'name':'x'}]                         | backend \"x\": missing \"url\"",
        "url not string     | [{'name':'x','url':['http://h:1']}]    | backend \"x\": \"url\" must be a string, found an array",
        "ftp url            | [{'name':'x','url':'ftp://h:21'}]      | backend \"x\": url \"ftp://h:21\" must be http://host:port or https://host:port",
        "no scheme          | [{'name':'x','url':'localhost:11434'}] | backend \"x\": url \"localhost:11434\" must be http://host:port or https://host:port",
        "no host            | [{'name':'x','url':'http:///api'}]     | backend \"x\": url \"http:///api\" must be http://host:port or https://host:port",
        "not a uri          | [{'name':'x','url':'http://h:1/a b'}]  | backend \"x\": url \"http://h:1/a b\" must be http://host:port or https://host:port",
        "query              | [{'name':'x','url':'http://h:1/?a=1'}] | backend \"x\": url \"http://h:1/?a=1\" must be http://host:port or https://host:port (no user, query or fragment)",
        "user info          | [{'name':'x','url':'http://u:p@h:1'}]  | backend \"x\": url \"http://u:p@h:1\" must be http://host:port or https://host:port (no user, query or fragment)",
        "underscore host    | [{'name':'x','url':'http://ollama_1:11434'}] | backend \"x\": url \"http://ollama_1:11434\" has a host name with '_', which is not a valid host name; use '-' or an IP address",
        "port too big       | [{'name':'x','url':'http://h:70000'}]  | backend \"x\": url \"http://h:70000\" has port 70000 (expected 1-65535)",
        "zero slots         | [{'name':'x','url':'http://h:1','maxConcurrency':0}]     | backend \"x\": \"maxConcurrency\" must be a whole number of at least 1, found 0",
        "fractional slots   | [{'name':'x','url':'http://h:1','maxConcurrency':2.5}]   | backend \"x\": \"maxConcurrency\" must be a whole number of at least 1, found 2.5",
        "string slots       | [{'name':'x','url':'http://h:1','maxConcurrency':'4'}]   | backend \"x\": \"maxConcurrency\" must be a whole number of at least 1, found \"4\"",
        "huge slots         | [{'name':'x','url':'http://h:1','maxConcurrency':9999999999}] | backend \"x\": \"maxConcurrency\" must be a whole number of at least 1, found 9999999999",
        "models not array   | [{'name':'x','url':'http://h:1','models':'llama3'}]      | backend \"x\": \"models\" must be an array of model names, found a string",
        "model not string   | [{'name':'x','url':'http://h:1','models':['a',{}]}]      | backend \"x\": \"models\" must be an array of model names, found an object",
        "empty model name   | [{'name':'x','url':'http://h:1','models':['']}]          | backend \"x\": \"models\" must be an array of model names, found an empty name",
        "enabled not bool   | [{'name':'x','url':'http://h:1','enabled':'yes'}]        | backend \"x\": \"enabled\" must be true or false, found \"yes\"",
        "enabled number     | [{'name':'x','url':'http://h:1','enabled':1}]            | backend \"x\": \"enabled\" must be true or false, found 1",
        "zero loaded models | [{'name':'x','url':'http://h:1','maxLoadedModels':0}]    | backend \"x\": \"maxLoadedModels\" must be a whole number of at least 1, found 0",
        "string loaded      | [{'name':'x','url':'http://h:1','maxLoadedModels':'3'}]  | backend \"x\": \"maxLoadedModels\" must be a whole number of at least 1, found \"3\"",
        "fraction loaded    | [{'name':'x','url':'http://h:1','maxLoadedModels':1.5}]  | backend \"x\": \"maxLoadedModels\" must be a whole number of at least 1, found 1.5",
        "bad vram unit      | [{'name':'x','url':'http://h:1','vram':'24 gigs'}]       | backend \"x\": \"vram\" must be a size such as \"24GB\" or a whole number of bytes, found \"24 gigs\"",
        "zero vram          | [{'name':'x','url':'http://h:1','vram':0}]               | backend \"x\": \"vram\" must be a size such as \"24GB\" or a whole number of bytes, found 0",
        "negative vram      | [{'name':'x','url':'http://h:1','vram':-1}]              | backend \"x\": \"vram\" must be a size such as \"24GB\" or a whole number of bytes, found -1",
        "fraction vram      | [{'name':'x','url':'http://h:1','vram':1.5e9}]           | backend \"x\": \"vram\" must be a size such as \"24GB\" or a whole number of bytes, found 1.5e9",
        "vram too large     | [{'name':'x','url':'http://h:1','vram':'99999999TB'}]    | backend \"x\": \"vram\" must be a size such as \"24GB\" or a whole number of bytes, found \"99999999TB\"",
        "vram boolean       | [{'name':'x','url':'http://h:1','vram':true}]            | backend \"x\": \"vram\" must be a size such as \"24GB\" or a whole number of bytes, found true",
        "ensure not array   | {'ensureModels':'a','backends':[{'name':'x','url':'http://h:1'}]} | \"ensureModels\" must be an array of model names, found a string",
        "ensure empty name  | {'backends':[{'name':'x','url':'http://h:1','ensureModels':['']}]} | backend \"x\": \"ensureModels\" must be an array of model names, found an empty name",
        "aliases not object | {'aliases':['a'],'backends':[{'name':'x','url':'http://h:1'}]} | \"aliases\" must be an object of alias → model, found an array",
        "alias target num   | {'aliases':{'chat':3},'backends':[{'name':'x','url':'http://h:1'}]} | alias \"chat\" must name a model, found a number",
        "unknown target     | {'aliases':{'chat':'llama3.2:3b'},'backends':[{'name':'x','url':'http://h:1'}]} | alias \"chat\" points at unknown model \"llama3.2:3b\" (declare it in \"ensureModels\" or a backend's \"models\")",
        "chained alias      | {'ensureModels':['m'],'aliases':{'a':'m','b':'A'},'backends':[{'name':'x','url':'http://h:1'}]} | alias \"b\" points at \"A\", another alias (aliases do not chain)",
        "alias shadows      | {'ensureModels':['m','n'],'aliases':{'N':'m'},'backends':[{'name':'x','url':'http://h:1'}]} | alias \"N\" has the name of a declared model; pick another alias name",
    })
    void everyMistakeIsOneReadableLine(String label, String json, String message) {
        assertError(json == null ? "" : q(json), FILE + ": " + message);
    }

    @Test
    void declaredModelsAndAliasesOfTheObjectForm() {
        BackendsFile.Loaded l = parse(q("{'ensureModels': ['llama3.2:3b', 'all-minilm', 'llama3.2:3b'],"
                + " 'aliases': {'chat': 'LLAMA3.2:3b', 'small': 'qwen2.5:0.5b'},"
                + " 'backends': [{'name':'a','url':'http://h:1','ensureModels':['qwen2.5:0.5b']},"
                + " {'name':'b','url':'http://h:2','models':['phi3']}]}"));
        assertThat(l.warnings()).isEmpty();
        FleetDeclarations d = l.declarations();
        assertThat(d.ensureModels()).containsExactly("llama3.2:3b", "all-minilm");
        assertThat(d.ensuredOn("a")).containsExactly("llama3.2:3b", "all-minilm", "qwen2.5:0.5b");
        assertThat(d.ensuredOn("b")).containsExactly("llama3.2:3b", "all-minilm");
        assertThat(d.aliases()).containsEntry("chat", "LLAMA3.2:3b").containsEntry("small", "qwen2.5:0.5b");
        assertThat(d.withFleetModels(java.util.List.of("phi3", "all-minilm")).ensuredOn("b"))
                .containsExactly("llama3.2:3b", "all-minilm", "phi3");
        assertThat(parse(q("[{'name':'a','url':'http://h:1'}]")).declarations()).isEqualTo(FleetDeclarations.NONE);
    }

    @Test
    void fileProblems(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> BackendsFile.load(dir.resolve("none.json"), "none.json", 1))
                .isInstanceOf(ConfigException.class).hasMessage("none.json: file not found");
        assertThatThrownBy(() -> BackendsFile.load(dir, "conf.d", 1))
                .hasMessage("conf.d: is a directory, expected a JSON file");
        Path ok = dir.resolve("ok.json");
        Files.writeString(ok, q("[{'name':'a','url':'http://127.0.0.1:11434','maxConcurrency':3}]"));
        assertThat(BackendsFile.load(ok, "ok.json", 1).backends())
                .containsExactly(new BackendConfig("a", URI.create("http://127.0.0.1:11434"), 3, null, true));
    }

    @Test
    void writtenFilesReadBackTheSame(@TempDir Path dir) throws Exception {
        List<BackendConfig> backends = List.of(
                new BackendConfig("gpu", URI.create("http://127.0.0.1:40001"), 4, null, true),
                new BackendConfig("cpu", URI.create("http://127.0.0.1:40002/prefix"), 2, List.of("llama3.2:1b"), false),
                new BackendConfig("small", URI.create("http://127.0.0.1:40003"), 1, null, true, 2, 12_000_000_000L));
        Path file = dir.resolve("out.json");
        BackendsFile.write(backends, file);
        BackendsFile.Loaded l = BackendsFile.load(file, "out.json", 1);
        assertThat(l.backends()).isEqualTo(backends);
        assertThat(l.warnings()).isEmpty();
    }
}
