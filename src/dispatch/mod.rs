//! (dispatch: being written)
