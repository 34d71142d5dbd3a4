package dev.curvlab.curvature.cli;

import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.io.ModelFile;
import dev.curvlab.nn.io.ModelSpec;
import dev.curvlab.nn.io.NpyFile;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.model.Sequential;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.BooleanIndexing;
import org.nd4j.linalg.indexing.conditions.Conditions;

/**
 * A command's inputs, read and validated before any work starts: the model spec, its parameters,
 * the data and the loss. Every problem is reported as one message that names the file (and the
 * option for missing files): {@code X.npy: has 4 columns but model 3-5(tanh)-2 takes 3 inputs}.
 *
 * @param batchSize samples per batch in the operators (0 = all)
 */
record Problem(ModelSpec spec, Sequential model, Loss loss, INDArray theta, Dataset data, int batchSize) {

    /** Model, parameters, inputs and targets (all curvature commands). */
    static Problem load(ModelOptions m, TargetOptions t) throws IOException {
        ModelSpec spec = readSpec(m);
        Sequential model = spec.model();
        Loss loss = loss(spec, m, t);
        INDArray theta = readParameters(m, model);
        INDArray x = readInputs(m, model);
        INDArray y = readArray(t.y, "--y");
        if (y.rank() == 0 || y.rank() > 2) {
            throw new BadInputException(t.y + ": targets must be [n, k] or class indices [n], got shape " + Arrays.toString(y.shape()));
        }
        if (y.size(0) != x.size(0)) {
            throw new BadInputException(t.y + ": has " + y.size(0) + " rows but " + m.x + " has " + x.size(0));
        }
        Dataset data = dataset(x, y, m.x, t.y);
        try {
            loss.prepare(data.y(), model.outputSize());
        } catch (IllegalArgumentException e) {
            throw new BadInputException(t.y + ": " + e.getMessage(), e);
        }
        return new Problem(spec, model, loss, theta, data, t.batchSize);
    }

    /** Model, parameters and inputs only (no targets, no loss needed): for jacobian. */
    static Problem loadInputs(ModelOptions m) throws IOException {
        ModelSpec spec = readSpec(m);
        INDArray theta = readParameters(m, spec.model());
        INDArray x = readInputs(m, spec.model());
        Dataset data = dataset(x, Nd4j.zeros(DataType.DOUBLE, x.size(0), 1), m.x, null);
        return new Problem(spec, spec.model(), spec.loss(), theta, data, 0);
    }

    /** N. */
    long parameterCount() {
        return model.parameterCount();
    }

    private static ModelSpec readSpec(ModelOptions m) throws IOException {
        try {
            return ModelFile.readSpec(m.model);
        } catch (NoSuchFileException | AccessDeniedException e) {
            throw missing(m.model, "--model", e);
        }
    }

    private static Loss loss(ModelSpec spec, ModelOptions m, TargetOptions t) {
        if (t.loss == null) {
            if (spec.loss() == null) {
                throw new BadInputException(m.model + ": the model has no \"loss\"; add one (mse, ce, bce, gaussian, poisson)"
                        + " or pass --loss NAME");
            }
            return spec.loss();
        }
        Loss loss;
        try {
            loss = Losses.parse(t.loss);
            new ModelSpec(spec.model(), loss);
        } catch (IllegalArgumentException e) {
            throw new BadInputException("--loss " + t.loss + ": " + e.getMessage(), e);
        }
        return loss;
    }

    private static INDArray readParameters(ModelOptions m, Sequential model) throws IOException {
        INDArray theta;
        try {
            theta = ModelFile.readParameters(m.params, model);
        } catch (NoSuchFileException | AccessDeniedException e) {
            throw missing(m.params, "--params", e);
        }
        long bad = BooleanIndexing.firstIndex(theta, Conditions.notFinite()).getLong(0);
        if (bad >= 0) {
            throw new BadInputException(m.params + ": parameter " + bad + " is " + theta.getDouble(bad) + " (parameters must be finite)");
        }
        return theta;
    }

    private static INDArray readInputs(ModelOptions m, Sequential model) throws IOException {
        INDArray x = readArray(m.x, "--x");
        if (model.hasImageInput()) {
            long[] want = model.inputShape();
            if (x.rank() != 4 || x.size(1) != want[0] || x.size(2) != want[1] || x.size(3) != want[2]) {
                throw new BadInputException(m.x + ": inputs must be images " + model.expectedInput() + " for model " + model.describe()
                        + ", got shape " + Arrays.toString(x.shape()));
            }
        } else if (x.rank() != 2) {
            throw new BadInputException(m.x + ": inputs must be a matrix [n, " + model.inputSize() + "], got shape " + Arrays.toString(x.shape()));
        }
        if (!model.hasImageInput() && x.size(1) != model.inputSize()) {
            throw new BadInputException(m.x + ": has " + x.size(1) + " columns (shape " + Arrays.toString(x.shape()) + ") but model "
                    + model.describe() + " takes " + model.inputSize() + " inputs");
        }
        if (x.size(0) < 1) {
            throw new BadInputException(m.x + ": has no rows");
        }
        return x;
    }

    /** Reads an array (float64), naming the file and option if it is missing. */
    static INDArray readArray(Path file, String option) throws IOException {
        try {
            return NpyFile.read(file);
        } catch (NoSuchFileException | AccessDeniedException e) {
            throw missing(file, option, e);
        }
    }

    /** The data set; its validation message (NaN/Inf, class indices) prefixed by the file it concerns. */
    private static Dataset dataset(INDArray x, INDArray y, Path xFile, Path yFile) {
        try {
            return new Dataset(x, y);
        } catch (IllegalArgumentException e) {
            String msg = e.getMessage() == null ? "invalid data" : e.getMessage();
            String where = msg.startsWith("features x") || yFile == null ? xFile.toString()
                    : msg.startsWith("targets y") || msg.startsWith("rank-1 targets y") ? yFile.toString() : xFile + ", " + yFile;
            throw new BadInputException(where + ": " + msg, e);
        }
    }

    private static BadInputException missing(Path file, String option, IOException e) {
        String what = e instanceof AccessDeniedException ? "permission denied" : "file does not exist";
        return new BadInputException(file + ": " + what + " (" + option + ")", e);
    }
}
