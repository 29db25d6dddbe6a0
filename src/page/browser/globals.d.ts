/** uPlot's browser build, served before the page's script as an asset of its own, defines this global. */
declare const uPlot: typeof import('uplot');
/** A chart made by it. */
type uPlot = import('uplot');
