package dev.curvlab.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.curvlab.core.check.Tolerances;
import dev.curvlab.nn.io.NpyFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine;

/**
 * The curvlab-trained digits CNN report end to end (2 filters, 1 epoch, 30 images): every output
 * exists, the exact trace is the diagonal sum of {@code hessian.npy}, Lanczos agrees with the dense
 * eigenvalues, the per-layer blocks' traces sum to the trace, and the matrix is symmetric.
 */
class DigitsCnnReportTest {
    @TempDir
    Path dir;

    @Test
    void reportOnDigitsIsCompleteAndConsistent() throws Exception {
        int code = new CommandLine(new DigitsCnnReport()).execute("--filters", "2", "--epochs", "1", "--samples", "30", "--out", dir.toString());
        assertEquals(0, code);
        for (String f : new String[] {"report.json", "hessian.npy", "model.json", "params.npy", "loss_curve.png", "spectrum.png", "hessian_heatmap.png"}) {
            assertTrue(Files.size(dir.resolve(f)) > 0, f);
        }
        JsonNode r = new ObjectMapper().readTree(dir.resolve("report.json").toFile());
        INDArray h = NpyFile.read(dir.resolve("hessian.npy"));
        assertEquals(r.get("model").get("parameters").asLong(), h.size(0));
        assertEquals(0.0, h.sub(h.transpose()).amaxNumber().doubleValue(), Tolerances.EXACT, "symmetric");
        JsonNode hess = r.get("hessian");
        assertEquals(30, hess.get("samples").asInt());
        assertEquals(Nd4j.diag(h).sumNumber().doubleValue(), hess.get("trace").asDouble(), Tolerances.CLOSED_FORM);
        assertTrue(hess.get("lanczosMaxAbsError").asDouble() < 1e-8, "Lanczos vs dense: " + hess.get("lanczosMaxAbsError"));
        double layerTraces = 0;
        for (JsonNode l : r.get("layers")) {
            layerTraces += l.get("trace").asDouble();
        }
        assertEquals(2, r.get("layers").size(), "conv2d and dense carry parameters, pooling and flatten none");
        assertEquals(hess.get("trace").asDouble(), layerTraces, Tolerances.CLOSED_FORM, "per-layer traces sum to the trace");
    }
}
