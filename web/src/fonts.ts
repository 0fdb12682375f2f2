// Noto Sans Bengali and Noto Sans Khmer, bundled (woff2, font-display: swap) and split by unicode-range: a page in
// English downloads neither, a page in Bangla only the Bengali file. Only the scripts' own subsets: Latin text uses
// the system font. Regular and bold, the two weights the page uses.
import '@fontsource/noto-sans-bengali/bengali-400.css'
import '@fontsource/noto-sans-bengali/bengali-700.css'
import '@fontsource/noto-sans-khmer/khmer-400.css'
import '@fontsource/noto-sans-khmer/khmer-700.css'
