// The page's own fonts for Bangla and Khmer: see fonts.css for why the faces are declared here.
import './fonts.css'
