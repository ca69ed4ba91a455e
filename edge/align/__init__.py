"""From a photograph to a page in template coordinates: tag, corner marks, homography, QR."""
