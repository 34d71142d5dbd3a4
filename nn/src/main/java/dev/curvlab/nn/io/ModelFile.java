package dev.curvlab.nn.io;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.model.Dense;
import dev.curvlab.nn.model.Sequential;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Model files: a JSON architecture plus an {@code .npy} vector of parameters.
 *
 * <h2>The architecture ({@code model.json})</h2>
 * <pre>{@code
 * {
 *   "name": "toy regression",
 *   "input": 10,
 *   "layers": [
 *     {"type": "dense", "units": 32, "activation": "tanh"},
 *     {"type": "dense", "units": 1, "activation": "identity"}
 *   ],
 *   "loss": "mse"
 * }
 * }</pre>
 * <ul>
 * <li>{@code "input"} (required): the number of input features, a positive integer.</li>
 * <li>{@code "layers"} (required): a non-empty list of layers, applied in order. Each layer is an
 *     object with exactly these keys, all required:
 *     {@code "type"}: {@code "dense"} (the only layer type; {@code a_out = s(a_in W + b)});
 *     {@code "units"}: the output width, a positive integer;
 *     {@code "activation"}: one of {@code identity, tanh, sigmoid, relu, leaky_relu, elu, softplus,
 *     gelu, silu} (case-insensitive; aliases {@code linear}/{@code none} = identity, {@code swish} =
 *     silu).</li>
 * <li>{@code "loss"} (optional, may be null): one of {@code mse, ce, bce, gaussian, poisson}
 *     (aliases {@code cross_entropy}, {@code binary_cross_entropy}, {@code gaussian_nll},
 *     {@code poisson_nll}). {@code gaussian} needs an even output width ({@code [mean | log
 *     variance]}), {@code ce} at least 2 outputs (one logit per class).</li>
 * <li>{@code "name"} (optional, may be null): a free-form label.</li>
 * </ul>
 * Reading is strict: any other key (e.g. a misspelt {@code "activaton"}), a duplicate key, a value
 * of the wrong type (such as {@code "units": "32"} or {@code 32.0}), content after the closing
 * brace or broken JSON is an error. Every error is a {@link ModelFormatException} whose message
 * reads {@code "<path>: <location>: <problem>"}, the location being a JSON path with line and column,
 * e.g. {@code model.json: layers[1].activation (line 4, column 52): unknown activation 'tahn'; known: ...}.
 * Files are UTF-8. {@link #writeSpec} writes the layout shown above (keys in that order, one layer
 * per line, {@code name} and {@code loss} only when set).
 *
 * <h2>The parameters ({@code params.npy})</h2>
 * One float64 ({@code <f8}) vector {@code theta} of length {@code N}, in the order of
 * {@link dev.curvlab.nn.model.ParamLayout}: for each layer {@code l = 0, 1, ...} in turn, its
 * weights {@code W_l} of shape {@code [in, out]} in row-major order ({@code W_l[i, j]} at offset
 * {@code i * out + j} within the block), then its bias {@code b_l} of length {@code out}. So
 * {@code N = sum over layers of (in + 1) * out}; for {@code 10-32(tanh)-32(tanh)-1} that is
 * {@code 352 + 1056 + 33 = 1441}. In NumPy, from PyTorch-style weights {@code w: [out, in]} and
 * biases {@code b: [out]} as arrays: {@code np.concatenate([np.concatenate([w.T.ravel(), b]) for
 * w, b in layers]).astype("<f8")}. The same order indexes the rows and columns of every Hessian
 * curvlab computes.
 * Reading accepts shape {@code [N]}, {@code [N, 1]} or {@code [1, N]} and any dtype that
 * {@link NpyFile} reads (converted to float64); the length must match the architecture. Writing
 * always produces a float64 {@code [N]} file, so values round-trip bit for bit.
 *
 * <p>All writes are atomic (a temporary file in the target directory, then a rename), so a file
 * name never holds a partial file. A missing file gives {@link NoSuchFileException}.
 */
public final class ModelFile {
    /** Largest model .json accepted (an architecture, not its weights). */
    static final long MAX_SPEC_BYTES = 16L << 20;

    /** The layout sentence used in parameter-length errors. */
    static final String LAYOUT = "layout: per layer W [in,out] row-major then b";

    private ModelFile() {
    }

    /** A model spec with its parameters {@code [N]} float64. */
    public record Bundle(ModelSpec spec, INDArray parameters) {
        /**
         * Normalises {@code parameters} to a float64 {@code [N]} vector (sharing data where possible).
         *
         * @throws IllegalArgumentException if either is null or the length is not the model's N
         */
        public Bundle {
            if (spec == null || parameters == null) {
                throw new IllegalArgumentException("a bundle needs a spec and parameters");
            }
            parameters = asVector(parameters, "parameters");
            if (parameters.length() != spec.model().parameterCount()) {
                throw new IllegalArgumentException("parameters have " + parameters.length() + " values but model "
                        + spec.model().describe() + " needs N = " + spec.model().parameterCount() + " (" + LAYOUT + ")");
            }
        }

        /** The network. */
        public Sequential model() {
            return spec.model();
        }

        /** The loss, or {@code null}. */
        public Loss loss() {
            return spec.loss();
        }
    }

    /**
     * Reads a model {@code .json} file.
     *
     * @throws NoSuchFileException if it does not exist
     * @throws ModelFormatException if it is not valid UTF-8 or not a valid model file
     */
    public static ModelSpec readSpec(Path json) throws IOException {
        // (a larger file is refused at once: parsing a 57 MB architecture of 1.1M layers took 20 s and 1 GB)
        Objects.requireNonNull(json, "json");
        if (!Files.exists(json)) {
            throw new NoSuchFileException(json.toString(), null, "model file does not exist");
        }
        if (Files.isDirectory(json)) {
            throw new ModelFormatException(json, null, "is a directory, not a model .json file");
        }
        if (!InputFiles.isStream(json) && Files.size(json) > MAX_SPEC_BYTES) {
            throw new ModelFormatException(json, null, "is " + Files.size(json) / (1 << 20) + " MB; a model file describes the architecture"
                    + " (parameters go in the .npy) and is at most " + (MAX_SPEC_BYTES >> 20) + " MB");
        }
        String text;
        try {
            text = InputFiles.isStream(json)
                    ? StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(InputFiles.readAll(json, MAX_SPEC_BYTES))).toString()
                    : Files.readString(json, StandardCharsets.UTF_8);
        } catch (CharacterCodingException e) {
            throw new ModelFormatException(json, null, "is not UTF-8 text");
        }
        return ModelSpecReader.parse(text, json.toString());
    }

    /**
     * Parses model JSON text (e.g. a bundled resource).
     *
     * @param source named at the start of every error message (a path or resource name)
     * @throws ModelFormatException if the text is not a valid model description
     */
    public static ModelSpec parseSpec(String json, String source) throws ModelFormatException {
        Objects.requireNonNull(json, "json");
        return ModelSpecReader.parse(json, source);
    }

    /**
     * The JSON text {@link #writeSpec} writes (ends with a newline).
     *
     * @throws IllegalArgumentException if the loss is not a built-in loss (only those can be named in a file)
     */
    public static String formatSpec(ModelSpec spec) {
        Objects.requireNonNull(spec, "spec");
        Sequential m = spec.model();
        StringBuilder sb = new StringBuilder("{\n");
        if (spec.name() != null) {
            sb.append("  \"name\": ").append(quote(spec.name())).append(",\n");
        }
        sb.append("  \"input\": ").append(m.inputSize()).append(",\n  \"layers\": [\n");
        List<Dense> layers = m.layers();
        for (int l = 0; l < layers.size(); l++) {
            Dense d = layers.get(l);
            sb.append("    {\"type\": \"dense\", \"units\": ").append(d.out()).append(", \"activation\": ")
                    .append(quote(d.activation().id())).append('}').append(l + 1 < layers.size() ? ",\n" : "\n");
        }
        sb.append("  ]");
        Loss loss = spec.loss();
        if (loss != null) {
            Loss builtIn;
            try {
                builtIn = Losses.parse(loss.name());
            } catch (IllegalArgumentException e) {
                builtIn = null;
            }
            if (builtIn != loss) {
                throw new IllegalArgumentException("loss '" + loss.name() + "' is not a built-in loss; a model file can only"
                        + " name mse, ce, bce, gaussian or poisson");
            }
            sb.append(",\n  \"loss\": ").append(quote(loss.name()));
        }
        return sb.append("\n}\n").toString();
    }

    /**
     * Atomically writes a model {@code .json} file (see {@link #formatSpec}); an existing file is replaced.
     *
     * @throws IllegalArgumentException if the loss is not a built-in loss
     */
    public static void writeSpec(Path json, ModelSpec spec) throws IOException {
        Objects.requireNonNull(json, "json");
        writeAtomically(json, formatSpec(spec).getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Reads the parameters of {@code model} from an {@code .npy} file.
     *
     * @return a new float64 vector {@code [N]}, {@code N = model.parameterCount()}
     * @throws NoSuchFileException if the file does not exist
     * @throws NpyFormatException if it is not a readable npy file
     * @throws ModelFormatException if it is not a vector ({@code [N]}, {@code [N, 1]}, {@code [1, N]})
     *     or its length is not N; the message names the file, both lengths and the layout
     */
    public static INDArray readParameters(Path npy, Sequential model) throws IOException {
        Objects.requireNonNull(npy, "npy");
        Objects.requireNonNull(model, "model");
        INDArray a = NpyFile.read(npy, DataType.DOUBLE);
        long n = model.parameterCount();
        long[] s = a.shape();
        if (!isVectorShape(s)) {
            throw new ModelFormatException(npy, null, "parameters must be a vector of shape [N], [N, 1] or [1, N], got shape "
                    + Arrays.toString(s) + "; model " + model.describe() + " needs N = " + n + " (" + LAYOUT + ")");
        }
        if (a.length() != n) {
            throw ModelFormatException.whole(npy, npy + " has " + a.length() + " values but model " + model.describe()
                    + " needs N = " + n + " (" + LAYOUT + ")");
        }
        return a.reshape(n);
    }

    /**
     * Atomically writes a parameter vector as a float64 {@code [N]} npy file (bit-exact).
     *
     * @param theta {@code [N]}, {@code [N, 1]} or {@code [1, N]}, any floating type; not modified
     * @throws IllegalArgumentException if {@code theta} is not a vector
     */
    public static void writeParameters(Path npy, INDArray theta) throws IOException {
        Objects.requireNonNull(npy, "npy");
        Objects.requireNonNull(theta, "theta");
        NpyFile.write(npy, asVector(theta, "theta"));
    }

    /**
     * Reads a spec and its parameters.
     *
     * @throws IOException as {@link #readSpec} and {@link #readParameters}
     */
    public static Bundle read(Path json, Path npy) throws IOException {
        ModelSpec spec = readSpec(json);
        return new Bundle(spec, readParameters(npy, spec.model()));
    }

    /**
     * Writes a spec and its parameters (each atomically; the parameters first).
     *
     * @throws IllegalArgumentException if both paths name the same file or the loss is not built in
     */
    public static void write(Path json, Path npy, Bundle bundle) throws IOException {
        Objects.requireNonNull(json, "json");
        Objects.requireNonNull(npy, "npy");
        Objects.requireNonNull(bundle, "bundle");
        if (json.toAbsolutePath().normalize().equals(npy.toAbsolutePath().normalize())) {
            throw new IllegalArgumentException("the architecture and the parameters need two different files, both are " + json);
        }
        String text = formatSpec(bundle.spec()); // fails before anything is written
        writeParameters(npy, bundle.parameters());
        writeAtomically(json, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Convenience for {@code write(json, npy, new Bundle(spec, parameters))}. */
    public static void write(Path json, Path npy, ModelSpec spec, INDArray parameters) throws IOException {
        write(json, npy, new Bundle(spec, parameters));
    }

    private static boolean isVectorShape(long[] s) {
        return s.length == 1 || (s.length == 2 && (s[0] == 1 || s[1] == 1));
    }

    /** {@code a} as a float64 C-order {@code [N]} vector. */
    static INDArray asVector(INDArray a, String what) {
        if (!isVectorShape(a.shape())) {
            throw new IllegalArgumentException(what + " must be a vector [N], [N, 1] or [1, N], got shape " + Arrays.toString(a.shape()));
        }
        INDArray d = a.dataType() == DataType.DOUBLE ? a : a.castTo(DataType.DOUBLE);
        if (d.rank() == 1 && d.ordering() == 'c' && !d.isView()) {
            return d;
        }
        return d.dup('c').reshape(d.length());
    }

    private static String quote(String s) {
        return "\"" + new String(JsonStringEncoder.getInstance().quoteAsString(s)) + "\"";
    }

    /** Writes {@code bytes} atomically ({@link AtomicFiles}). */
    private static void writeAtomically(Path file, byte[] bytes) throws IOException {
        AtomicFiles.write(file, bytes);
    }
}
