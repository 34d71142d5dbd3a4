package dev.curvlab.examples;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The reliability diagram of the Laplace example, in the style of {@link ReportPlots}. */
final class CalibrationPlots {
    private CalibrationPlots() {
    }

    /** Accuracy against mean confidence per bin for each model (non-empty bins), with the diagonal of perfect calibration. */
    static void reliability(Path file, Map<String, INDArray> probabilities, INDArray labels, int bins, String title) throws IOException {
        XYChart chart = new XYChartBuilder().width(800).height(600).title(title).xAxisTitle("confidence (mean of bin)").yAxisTitle("accuracy").build();
        chart.getStyler().setLegendVisible(true).setMarkerSize(7);
        chart.getStyler().setXAxisMin(0.0).setXAxisMax(1.0).setYAxisMin(0.0).setYAxisMax(1.0);
        chart.addSeries("perfect calibration", new double[] {0, 1}, new double[] {0, 1}).setMarker(SeriesMarkers.NONE);
        for (Map.Entry<String, INDArray> e : probabilities.entrySet()) {
            Calibration.Bins b = Calibration.bins(e.getValue(), labels, bins);
            List<Double> x = new ArrayList<>();
            List<Double> y = new ArrayList<>();
            for (int i = 0; i < bins; i++) {
                if (b.count()[i] > 0) {
                    x.add(b.confidence()[i]);
                    y.add(b.accuracy()[i]);
                }
            }
            chart.addSeries(e.getKey(), x, y);
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        BitmapEncoder.saveBitmap(chart, tmp.toString(), BitmapEncoder.BitmapFormat.PNG);
        Files.move(tmp.resolveSibling(tmp.getFileName() + ".png"), file, StandardCopyOption.REPLACE_EXISTING);
    }
}
