package dev.curvlab.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.curvlab.nn.io.NpyFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine;

/** The main analysis end to end on Iris (few epochs): every output exists and its numbers agree with each other. */
class CurvatureReportTest {
    @TempDir
    Path dir;

    @Test
    void reportOnIrisIsCompleteAndConsistent() throws Exception {
        int code = new CommandLine(new CurvatureReport()).execute("--epochs", "40", "--hidden", "8", "--out", dir.toString());
        assertEquals(0, code);
        for (String f : new String[] {"report.json", "hessian.npy", "eigenvalues.npy", "model.json", "params.npy", "loss_curve.png", "spectrum.png",
            "hessian_heatmap.png"}) {
            assertTrue(Files.size(dir.resolve(f)) > 0, f);
        }
        JsonNode r = new ObjectMapper().readTree(dir.resolve("report.json").toFile());
        INDArray h = NpyFile.read(dir.resolve("hessian.npy"));
        long n = r.get("model").get("parameters").asLong();
        assertEquals(4 * 8 + 8 + 8 * 3 + 3, n);
        assertEquals(n, h.size(0));
        JsonNode hess = r.get("hessian");
        assertEquals(org.nd4j.linalg.factory.Nd4j.diag(h).sumNumber().doubleValue(), hess.get("trace").asDouble(), 1e-10);
        assertTrue(hess.get("lanczosMaxAbsError").asDouble() < 1e-8, "Lanczos vs dense: " + hess.get("lanczosMaxAbsError"));
        JsonNode hpp = hess.get("traceHutchPlusPlus");
        assertTrue(Math.abs(hpp.get("estimate").asDouble() - hess.get("trace").asDouble()) < 4 * hpp.get("standardError").asDouble() + 1e-9,
                "Hutch++ " + hpp + " vs exact " + hess.get("trace"));
        assertTrue(r.get("ggn").get("minEigenvalue").asDouble() > -1e-10, "GGN of cross-entropy is PSD");
        double layerTraces = 0;
        for (JsonNode l : r.get("layers")) {
            layerTraces += l.get("trace").asDouble();
        }
        assertEquals(hess.get("trace").asDouble(), layerTraces, 1e-9, "per-layer traces sum to the trace");
        assertTrue(r.get("training").get("testAccuracy").asDouble() > 0.8);
    }
}
