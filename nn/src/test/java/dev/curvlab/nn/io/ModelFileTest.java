package dev.curvlab.nn.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Sequential;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class ModelFileTest {

    @TempDir
    Path dir;

    private static final String EXAMPLE = """
            {"input": 10, "layers": [{"type": "dense", "units": 32, "activation": "tanh"},
                                     {"type": "dense", "units": 1, "activation": "identity"}],
             "loss": "mse"}
            """;

    private static final String LAYER = "{\"type\": \"dense\", \"units\": 4, \"activation\": \"tanh\"}";

    /** A model using every activation, with an output width that suits every loss. */
    private static Sequential everyActivation() {
        Sequential.Builder b = Sequential.builder(3);
        Activation[] all = Activation.values();
        for (int i = 0; i < all.length; i++) {
            b.dense(i == all.length - 1 ? 2 : 2 + i % 3, all[i]);
        }
        return b.build();
    }

    /** Random doubles plus awkward values (signed zero, subnormal, extremes, NaN, infinities). */
    private static INDArray awkwardParameters(long n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        double[] v = new double[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (rng.nextDouble() - 0.5) * Math.pow(10, rng.nextInt(-30, 30));
        }
        double[] special = {-0.0, Double.MIN_VALUE, Double.MAX_VALUE, -Double.MIN_NORMAL, Double.NaN,
            Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Math.PI};
        System.arraycopy(special, 0, v, 0, special.length);
        return Nd4j.create(v, new long[] {n}, DataType.DOUBLE);
    }

    private static void assertBitIdentical(INDArray expected, INDArray actual) {
        assertEquals(DataType.DOUBLE, actual.dataType());
        assertTrue(Arrays.equals(expected.shape(), actual.shape()), Arrays.toString(actual.shape()));
        double[] e = expected.dup('c').data().asDouble();
        double[] a = actual.dup('c').data().asDouble();
        for (int i = 0; i < e.length; i++) {
            assertEquals(Double.doubleToRawLongBits(e[i]), Double.doubleToRawLongBits(a[i]), "entry " + i);
        }
    }

    private Path file(String name, String content) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, content);
        return p;
    }

    static Stream<Loss> losses() {
        return Stream.of(Losses.MSE, Losses.CROSS_ENTROPY, Losses.BCE, Losses.GAUSSIAN, Losses.POISSON, null);
    }

    @ParameterizedTest
    @MethodSource("losses")
    void roundTripsSpecAndParametersForEveryActivationAndLoss(Loss loss) throws IOException {
        Sequential model = everyActivation();
        ModelSpec spec = new ModelSpec(model, loss, loss == null ? null : "all \"activations\" / ü\n" + loss.name());
        INDArray theta = awkwardParameters(model.parameterCount(), 7);
        Path json = dir.resolve("model.json");
        Path npy = dir.resolve("params.npy");
        ModelFile.write(json, npy, spec, theta);

        ModelFile.Bundle back = ModelFile.read(json, npy);
        assertEquals(spec, back.spec());
        assertEquals(model.describe(), back.model().describe());
        assertEquals(model.layers(), back.model().layers());
        assertSame(loss, back.loss());
        assertEquals(spec.name(), back.spec().name());
        assertBitIdentical(theta, back.parameters());
        assertEquals(ModelFile.formatSpec(spec), Files.readString(json), "writing what was read gives the same text");
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(2, files.count(), "no temporary files left behind");
        }
    }

    @Test
    void handWrittenJsonParsesIntoTheExpectedModel() throws IOException {
        ModelSpec spec = ModelFile.readSpec(file("model.json", EXAMPLE));
        assertEquals("10-32(tanh)-1", spec.model().describe());
        assertEquals(10 * 32 + 32 + 32 + 1, spec.model().parameterCount());
        assertEquals(10, spec.model().inputSize());
        assertEquals(Activation.IDENTITY, spec.model().layers().get(1).activation());
        assertSame(Losses.MSE, spec.loss());
        assertNull(spec.name());

        String deeper = """
                {
                  "name": "deeper",
                  "input": 10,
                  "layers": [
                    {"type": "Dense", "units": 32, "activation": "TANH"},
                    {"activation": "swish", "units": 32, "type": "dense"},
                    {"type": "dense", "units": 1, "activation": "linear"}
                  ],
                  "loss": null
                }""";
        ModelSpec d = ModelFile.parseSpec(deeper, "deeper.json");
        assertEquals("10-32(tanh)-32(silu)-1", d.model().describe());
        assertEquals(1441, d.model().parameterCount());
        assertNull(d.loss());
        assertEquals("deeper", d.name());
    }

    @Test
    void roundTripsAnImageModelWithEveryLayerType() throws IOException {
        String json = """
                {
                  "input": [2, 9, 8],
                  "layers": [
                    {"type": "conv2d", "filters": 3, "kernel": [3, 2], "stride": [2, 1], "padding": [1, 0], "activation": "relu"},
                    {"type": "maxpool2d", "kernel": [2, 2], "stride": [1, 2]},
                    {"type": "avgpool2d", "kernel": [2, 1], "stride": [2, 1]},
                    {"type": "flatten"},
                    {"type": "dense", "units": 4, "activation": "identity"}
                  ],
                  "loss": "ce"
                }
                """;
        ModelSpec spec = ModelFile.parseSpec(json, "cnn.json");
        Sequential m = spec.model();
        assertEquals("[2, 9, 8]-conv3x3x2s2x1p1x0(relu)-maxpool2x2s1x2-avgpool2x1-flatten-4", m.describe());
        assertEquals(List.of(3L, 5L, 7L), Arrays.stream(m.outputShape(0)).boxed().toList());    // (9+2-3)/2+1, (8-2)/1+1
        assertEquals(List.of(3L, 4L, 3L), Arrays.stream(m.outputShape(1)).boxed().toList());
        assertEquals(List.of(3L, 2L, 3L), Arrays.stream(m.outputShape(2)).boxed().toList());
        assertEquals(3 * 2 * 3 * 2 + 3 + 18 * 4 + 4, m.parameterCount());
        assertEquals(json, ModelFile.formatSpec(spec), "the writer writes what the reader reads");
        INDArray theta = awkwardParameters(m.parameterCount(), 3);
        ModelFile.write(dir.resolve("c.json"), dir.resolve("c.npy"), spec, theta);
        ModelFile.Bundle back = ModelFile.read(dir.resolve("c.json"), dir.resolve("c.npy"));
        assertEquals(spec, back.spec());
        assertBitIdentical(theta, back.parameters());
        ModelSpec defaults = ModelFile.parseSpec("{\"input\": [1, 4, 4], \"layers\": [{\"type\": \"conv2d\", \"filters\": 2, \"kernel\": [3, 3],"
                + " \"activation\": \"tanh\"}, {\"type\": \"maxpool2d\", \"kernel\": [2, 2]}, {\"type\": \"flatten\"}]}", "d.json");
        assertEquals("[1, 4, 4]-conv2x3x3(tanh)-maxpool2x2-flatten", defaults.model().describe(), "stride [1, 1], padding [0, 0], pool stride = kernel");
    }

    @Test
    void writesTheDocumentedLayout() throws IOException {
        Path json = dir.resolve("m.json");
        ModelFile.writeSpec(json, new ModelSpec(Sequential.mlp(new int[] {10, 32, 1}, Activation.TANH), Losses.MSE, "toy"));
        assertEquals("""
                {
                  "name": "toy",
                  "input": 10,
                  "layers": [
                    {"type": "dense", "units": 32, "activation": "tanh"},
                    {"type": "dense", "units": 1, "activation": "identity"}
                  ],
                  "loss": "mse"
                }
                """, Files.readString(json));
        ModelFile.writeSpec(json, new ModelSpec(Sequential.mlp(new int[] {2, 1}, Activation.TANH)));
        assertEquals("{\n  \"input\": 2,\n  \"layers\": [\n    {\"type\": \"dense\", \"units\": 1, \"activation\": \"identity\"}\n  ]\n}\n",
                Files.readString(json));
    }

    @Test
    void wrongParameterLengthNamesFileModelAndLayout() throws IOException {
        Sequential model = Sequential.mlp(new int[] {10, 32, 32, 1}, Activation.TANH);
        Path npy = dir.resolve("params.npy");
        ModelFile.writeParameters(npy, Nd4j.zeros(DataType.DOUBLE, 1440));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelFile.readParameters(npy, model));
        assertEquals(npy + " has 1440 values but model 10-32(tanh)-32(tanh)-1 needs N = 1441"
                + " (layout: per layer W [in,out] row-major then b)", e.getMessage());
        assertTrue(e.getMessage().contains("params.npy has 1440 values but model 10-32(tanh)-32(tanh)-1 needs N = 1441"
                + " (layout: per layer W [in,out] row-major then b)"));

        Path json = file("model.json", ModelFile.formatSpec(new ModelSpec(model)));
        ModelFormatException viaBundle = assertThrows(ModelFormatException.class, () -> ModelFile.read(json, npy));
        assertEquals(e.getMessage(), viaBundle.getMessage());
    }

    @Test
    void acceptsColumnAndRowVectorsAndOtherDtypes() throws IOException {
        Sequential model = Sequential.mlp(new int[] {3, 4, 2}, Activation.RELU);
        long n = model.parameterCount();
        INDArray theta = awkwardParameters(n, 3);
        Path npy = dir.resolve("p.npy");
        for (long[] shape : new long[][] {{n, 1}, {1, n}}) {
            NpyFile.write(npy, theta.reshape(shape));
            assertBitIdentical(theta, ModelFile.readParameters(npy, model));
        }
        NpyFile.write(npy, theta.castTo(DataType.FLOAT));
        INDArray f = ModelFile.readParameters(npy, model);
        assertEquals(DataType.DOUBLE, f.dataType());
        assertEquals(n, f.length());

        ModelFile.writeParameters(npy, theta.castTo(DataType.FLOAT).reshape(1, n)); // written as <f8 [N]
        assertEquals(DataType.DOUBLE, NpyFile.read(npy, DataType.DOUBLE).dataType());
        assertEquals(1, NpyFile.read(npy).rank());

        NpyFile.write(npy, Nd4j.zeros(DataType.DOUBLE, 2, n / 2 + 1));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelFile.readParameters(npy, model));
        assertTrue(e.getMessage().startsWith(npy + ": parameters must be a vector"), e.getMessage());
        assertThrows(NoSuchFileException.class, () -> ModelFile.readParameters(dir.resolve("absent.npy"), model));
        assertThrows(IllegalArgumentException.class, () -> ModelFile.writeParameters(npy, Nd4j.zeros(2, 3)));
    }

    @Test
    void bundleAndSpecRejectInconsistentInput() {
        Sequential odd = Sequential.mlp(new int[] {3, 3}, Activation.TANH);
        assertThrows(IllegalArgumentException.class, () -> new ModelSpec(odd, Losses.GAUSSIAN));
        assertThrows(IllegalArgumentException.class, () -> new ModelSpec(Sequential.mlp(new int[] {3, 1}, Activation.TANH), Losses.CROSS_ENTROPY));
        assertThrows(IllegalArgumentException.class, () -> new ModelFile.Bundle(new ModelSpec(odd), Nd4j.zeros(DataType.DOUBLE, 5)));
        Path same = dir.resolve("x");
        assertThrows(IllegalArgumentException.class,
                () -> ModelFile.write(same, same, new ModelSpec(odd), Nd4j.zeros(DataType.DOUBLE, odd.parameterCount())));
        // a loss that is not built in (a proxy, so the test does not depend on Loss's other methods)
        Loss custom = (Loss) Proxy.newProxyInstance(Loss.class.getClassLoader(), new Class<?>[] {Loss.class},
                (proxy, method, args) -> method.getName().equals("name") ? "huber" : null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelFile.formatSpec(new ModelSpec(odd, custom)));
        assertTrue(e.getMessage().contains("huber"), e.getMessage());
    }

    @Test
    void missingSpecFileIsNoSuchFile() {
        assertThrows(NoSuchFileException.class, () -> ModelFile.readSpec(dir.resolve("absent.json")));
    }

    static Stream<Arguments> badSpecs() {
        String two = "[" + LAYER + ", {\"type\": \"dense\", \"units\": 1, \"activation\": \"identity\"}]";
        return Stream.of(
                Arguments.of("{\"input\": 10,\n \"layers\": [}", "line 2, column 13",
                        "invalid JSON: Unexpected close marker '}': expected ']' (for Array starting at line 2, column 12)"),
                Arguments.of("", "top level (line 1, column 1)", "empty"),
                Arguments.of("[1, 2]", "top level (line 1, column 1)", "expected a JSON object"),
                Arguments.of("{\"input\": 2, \"layers\": [" + LAYER + "]} {}", "top level (line 1, column ", "after the closing '}'"),
                Arguments.of("{\"layers\": [" + LAYER + "]}", "top level (line 1, column 1)", "missing required key \"input\""),
                Arguments.of("{\"input\": 10}", "top level (line 1, column 1)", "missing required key \"layers\""),
                Arguments.of("{\"input\": \"10\", \"layers\": " + two + "}", "input (line 1, column 11)",
                        "must be a positive integer, got the string \"10\""),
                Arguments.of("{\"input\": 0, \"layers\": " + two + "}", "input (line 1", "must be a positive integer, got 0"),
                Arguments.of("{\"input\": 99999999999, \"layers\": " + two + "}", "input (line 1", "too large"),
                Arguments.of("{\"input\": 2, \"layers\": []}", "layers (line 1", "at least one layer"),
                Arguments.of("{\"input\": 2, \"layers\": {}}", "layers (line 1", "must be a list of layers"),
                Arguments.of("{\"input\": 2, \"layers\": [3]}", "layers[0] (line 1", "must be a layer object"),
                Arguments.of("{\"input\": 2, \"layers\": [{\"type\": \"dense\", \"units\": 0, \"activation\": \"tanh\"}]}",
                        "layers[0].units (line 1", "must be a positive integer, got 0"),
                Arguments.of("{\"input\": 2, \"layers\": [{\"type\": \"dense\", \"units\": -3, \"activation\": \"tanh\"}]}",
                        "layers[0].units (line 1", "must be a positive integer, got -3"),
                Arguments.of("{\"input\": 2, \"layers\": [{\"type\": \"dense\", \"units\": \"32\", \"activation\": \"tanh\"}]}",
                        "layers[0].units (line 1", "must be a positive integer, got the string \"32\""),
                Arguments.of("{\"input\": 2, \"layers\": [{\"type\": \"dense\", \"units\": 32.0, \"activation\": \"tanh\"}]}",
                        "layers[0].units (line 1", "got the number 32.0"),
                Arguments.of("{\"input\": 2, \"layers\": [{\"type\": \"conv3d\", \"units\": 3, \"activation\": \"tanh\"}]}",
                        "layers[0].type (line 1", "unknown layer type 'conv3d'; layer types: dense, conv2d, maxpool2d, avgpool2d, flatten"),
                Arguments.of("{\"input\": 2, \"layers\": [{\"type\": \"dense\", \"units\": 3, \"activation\": 1}]}",
                        "layers[0].activation (line 1", "must be a string, got the number 1"),
                Arguments.of("{\"input\": 2,\n \"layers\": [" + LAYER + ",\n   {\"type\": \"dense\", \"units\": 1, \"activation\": \"tahn\"}]}",
                        "layers[1].activation (line 3, column 48)", "unknown activation 'tahn'; known: identity, tanh, sigmoid"),
                Arguments.of("{\"input\": 2, \"layers\": [{\"type\": \"dense\", \"units\": 3}]}", "layers[0] (line 1, column 25)",
                        "missing required key \"activation\""),
                Arguments.of("{\"input\": 2, \"layers\": [{\"units\": 3, \"activation\": \"tanh\"}]}", "layers[0] (line 1",
                        "missing required key \"type\""),
                Arguments.of("{\"input\": 2, \"layers\": [{\"type\": \"dense\", \"activation\": \"tanh\"}]}", "layers[0] (line 1",
                        "missing required key \"units\""),
                Arguments.of("{\"input\": 2, \"layers\": [{\"type\": \"dense\", \"units\": 3, \"activaton\": \"tanh\"}]}",
                        "layers[0].activaton (line 1", "unknown key \"activaton\" in a layer (did you mean \"activation\"?)"),
                Arguments.of("{\"input\": 2, \"activaton\": \"tanh\", \"layers\": " + two + "}", "activaton (line 1, column 14)",
                        "unknown key \"activaton\" at the top level; allowed keys: name, input, layers, loss"),
                Arguments.of("{\"input\": 2, \"input\": 3, \"layers\": " + two + "}", "input (line 1", "duplicate key \"input\""),
                Arguments.of("{\"input\": 2, \"layers\": " + two + ", \"loss\": \"mae\"}", "loss (line 1",
                        "unknown loss 'mae'; known: mse, ce, bce, gaussian, poisson"),
                Arguments.of("{\"input\": 2, \"layers\": " + two + ", \"loss\": [\"mse\"]}", "loss (line 1", "must be a string, got a list"),
                Arguments.of("{\"input\": 2, \"layers\": [{\"type\": \"dense\", \"units\": 3, \"activation\": \"identity\"}],\n"
                        + " \"loss\": \"gaussian\"}", "loss (line 2, column 10)", "even number of outputs"),
                Arguments.of("{\"input\": 2, \"layers\": " + two + ", \"loss\": \"ce\"}", "loss (line 1",
                        "ce loss needs at least 2 outputs"),
                Arguments.of("{\"input\": 2, \"layers\": " + two + ", \"name\": 5}", "name (line 1", "must be a string"),
                // image models
                Arguments.of("{\"input\": [1, 4, 4], \"layers\": [{\"type\": \"conv2d\", \"filters\": 2, \"kernel\": [5, 5], \"activation\": \"tanh\"},"
                        + " {\"type\": \"flatten\"}]}", "layers[0] (line 1", "kernel [5, 5] is larger than the padded input [4, 4]"),
                Arguments.of("{\"input\": [1, 4, 4], \"layers\": [{\"type\": \"avgpool2d\", \"kernel\": [2, 2]}, " + LAYER + "]}",
                        "layers[1] (line 1", "layer 1 (dense): needs a vector input, got [1, 2, 2]; add a flatten layer before it"),
                Arguments.of("{\"input\": [1, 4, 4], \"layers\": [{\"type\": \"maxpool2d\", \"kernel\": [0, 2]}]}",
                        "layers[0].kernel (line 1", "must be a list of two integers >= 1"),
                Arguments.of("{\"input\": [1, 4], \"layers\": " + two + "}", "input (line 1", "an image shape [C, H, W] of three positive integers"),
                Arguments.of("{\"input\": [1, 4, 4], \"layers\": [{\"type\": \"maxpool2d\", \"kernel\": [2, 2], \"filters\": 3}]}",
                        "layers[0].filters (line 1", "a maxpool2d layer has no \"filters\""),
                Arguments.of("{\"input\": 3, \"layers\": [{\"type\": \"conv2d\", \"filters\": 2, \"kernel\": [1, 1], \"activation\": \"tanh\"}]}",
                        "layers[0] (line 1", "needs image input [C, H, W], got [3]"),
                Arguments.of("{\"input\": [1, 4, 4], \"layers\": [{\"type\": \"conv2d\", \"filters\": 2, \"kernel\": [3, 3], \"activation\": \"tanh\"}]}",
                        "layers (line 1", "the model's output [2, 2, 2] is not a vector"),
                Arguments.of("{\"input\": [1, 4, 4], \"layers\": [{\"type\": \"conv2d\", \"kernel\": [3, 3], \"activation\": \"tanh\"}]}",
                        "layers[0] (line 1", "missing required key \"filters\""));
    }

    @ParameterizedTest
    @MethodSource("badSpecs")
    void everyErrorNamesPathLocationAndProblem(String json, String location, String problem) throws IOException {
        Path p = file("bad model.json", json);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelFile.readSpec(p));
        String m = e.getMessage();
        assertTrue(m.startsWith(p + ": " + location), m);
        assertTrue(m.contains(problem), m);
        assertFalse(m.contains("[Source"), m);
        assertEquals(p.toString(), e.source());
        assertTrue(e.location().startsWith(location), e.location());
        assertEquals(p + ": " + e.location() + ": " + e.problem(), m);
    }
}
