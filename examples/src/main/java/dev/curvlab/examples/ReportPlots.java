package dev.curvlab.examples;

import dev.curvlab.core.kernels.RawAccess;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The report's pictures, written as PNG (headless): the training loss curve and the eigenvalue
 * density (XChart), and a heat map of the Hessian with layer boundaries (drawn directly, one cell
 * per parameter block of the downsampled matrix, symmetric-log colour scale).
 */
final class ReportPlots {
    private ReportPlots() {
    }

    /** Training loss per epoch (log scale). */
    static void lossCurve(Path file, double[] loss, String title) throws IOException {
        XYChart chart = new XYChartBuilder().width(800).height(500).title(title).xAxisTitle("epoch").yAxisTitle("training loss").build();
        double[] x = new double[loss.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = i + 1;
        }
        chart.getStyler().setYAxisLogarithmic(true).setLegendVisible(false).setMarkerSize(0);
        chart.addSeries("loss", x, loss).setMarker(SeriesMarkers.NONE);
        save(chart, file);
    }

    /** Eigenvalue density (Gaussian-broadened exact spectrum) on a log density axis, with the eigenvalues as ticks. */
    static void spectrum(Path file, double[] grid, double[] density, double[] eigenvalues, String title) throws IOException {
        XYChart chart = new XYChartBuilder().width(900).height(500).title(title).xAxisTitle("eigenvalue").yAxisTitle("density").build();
        chart.getStyler().setYAxisLogarithmic(true).setLegendVisible(true).setMarkerSize(4);
        double floor = 1e-6;
        double[] d = new double[density.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = Math.max(density[i], floor);
        }
        chart.addSeries("density", grid, d).setMarker(SeriesMarkers.NONE);
        double[] ticks = new double[eigenvalues.length];
        java.util.Arrays.fill(ticks, floor * 2);
        XYSeries s = chart.addSeries("eigenvalues", eigenvalues, ticks);
        s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        s.setMarker(SeriesMarkers.DIAMOND);
        save(chart, file);
    }

    private static void save(XYChart chart, Path file) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        BitmapEncoder.saveBitmap(chart, tmp.toString(), BitmapEncoder.BitmapFormat.PNG);
        Path written = tmp.resolveSibling(tmp.getFileName() + ".png");
        Files.move(written, file, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Heat map of {@code h: [N, N]} with the given layer boundaries (parameter offsets) and names.
     * Colour: red positive, blue negative, intensity {@code log(1 + |h| / s)} with s a thousandth of
     * the largest magnitude (three decades visible); matrices larger than 800 are downsampled by taking the entry of largest
     * magnitude in each cell.
     */
    static void heatmap(Path file, INDArray h, long[] boundaries, List<String> names, String title) throws IOException {
        int n = (int) h.size(0);
        int cells = Math.min(n, 800);
        double per = (double) n / cells;
        double[] cell = new double[cells * cells];
        double[] row = new double[n];
        for (int r = 0; r < n; r++) {
            RawAccess.read(h, (long) r * n, row, 0, n);
            int cr = (int) (r / per);
            for (int c = 0; c < n; c++) {
                int cc = (int) (c / per);
                double v = row[c];
                if (Math.abs(v) > Math.abs(cell[cr * cells + cc])) {
                    cell[cr * cells + cc] = v;
                }
            }
        }
        double[] mags = java.util.Arrays.stream(cell).map(Math::abs).filter(v -> v > 0).sorted().toArray();
        double scale = mags.length == 0 ? 1 : mags[mags.length - 1] * 1e-3;
        double top = mags.length == 0 ? 1 : Math.log1p(mags[mags.length - 1] / scale);
        int margin = 60;
        int size = Math.max(cells, 800);
        int px = Math.max(1, (int) Math.round((double) size / cells));
        int img = cells * px;
        BufferedImage image = new BufferedImage(img + 2 * margin, img + 2 * margin, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, image.getWidth(), image.getHeight());
        for (int r = 0; r < cells; r++) {
            for (int c = 0; c < cells; c++) {
                double v = cell[r * cells + c];
                float t = (float) Math.min(1.0, Math.log1p(Math.abs(v) / scale) / top);
                g.setColor(v >= 0 ? new Color(1f, 1f - t, 1f - t) : new Color(1f - t, 1f - t, 1f));
                g.fillRect(margin + c * px, margin + r * px, px, px);
            }
        }
        g.setColor(Color.DARK_GRAY);
        g.setStroke(new BasicStroke(1.5f));
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        for (int b = 0; b < boundaries.length; b++) {
            int p = margin + (int) Math.round(boundaries[b] / per) * px;
            if (b > 0 && b < boundaries.length - 1) {
                g.drawLine(margin, p, margin + img, p);
                g.drawLine(p, margin, p, margin + img);
            }
            if (b < names.size()) {
                int q = margin + (int) Math.round(boundaries[b + 1] / per) * px;
                g.drawString(names.get(b), (p + q) / 2 - 20, margin - 8);
            }
        }
        g.drawRect(margin, margin, img, img);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString(title, margin, 20);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        g.drawString(String.format("red > 0, blue < 0; colour ~ log(1 + |H| / %.2g)", scale), margin, margin + img + 20);
        g.dispose();
        java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream();
        ImageIO.write(image, "png", png);
        dev.curvlab.nn.io.AtomicFiles.write(file, png.toByteArray());
    }
}
