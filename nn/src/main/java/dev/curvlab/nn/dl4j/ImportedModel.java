package dev.curvlab.nn.dl4j;

import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.model.Sequential;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A DL4J network as curvlab sees it (made by {@link Dl4jImport}).
 *
 * @param model the architecture; when {@code loss} is {@code ce} or {@code bce} its last layer has
 *     IDENTITY activation and returns <em>logits</em> {@code z}, where DL4J returned
 *     {@code softmax(z)} or {@code sigmoid(z)} (see {@link Dl4jImport})
 * @param parameters {@code theta: [N]} float64 in curvlab's layout: per layer {@code W [in, out]}
 *     row-major, then {@code b [out]} ({@link dev.curvlab.nn.model.ParamLayout})
 * @param loss the curvlab equivalent of the DL4J output layer's loss, or {@code null} when there is
 *     none (the model then reproduces DL4J's outputs, activation included)
 */
public record ImportedModel(Sequential model, INDArray parameters, Loss loss) {
    public ImportedModel {
        if (model == null || parameters == null) {
            throw new IllegalArgumentException("an imported model needs a model and parameters");
        }
        if (parameters.rank() != 1 || parameters.length() != model.parameterCount() || parameters.dataType() != DataType.DOUBLE) {
            throw new IllegalArgumentException("parameters of shape " + Arrays.toString(parameters.shape()) + " (" + parameters.dataType()
                    + ") do not fit model " + model.describe() + ", which needs [" + model.parameterCount() + "] DOUBLE");
        }
    }
}
