// placeholder
const SHELL = self.__SHELL__
const VERSION = self.__VERSION__
